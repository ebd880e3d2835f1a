"""RFC 9457 problem details: one error shape for every service.

Domain code raises a :class:`ProblemError` subclass that carries its own status; the
handlers installed by :func:`install_problem_handlers` turn it, FastAPI's validation
errors and Starlette's HTTP errors into ``application/problem+json``. A client's bad
input therefore always gets a 4xx with a field -> message map, never a 500.
"""

import copy
import inspect
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pms_platform.logging import get_logger
from pms_platform.request_context import current_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"
VALIDATION_DETAIL = "The request is not valid"
RETRY_AFTER_HEADER = "Retry-After"
WWW_AUTHENTICATE_HEADER = "WWW-Authenticate"
PROBLEM_TYPE_BASE = "https://pms.example/problems/"
UNAVAILABLE_RETRY_AFTER_SECONDS = 5
UNAVAILABLE_DETAIL = "A service this request needs is not available now; nothing was changed"
UNEXPECTED_DETAIL = "An unexpected error occurred; it has been logged"
_log = get_logger("pms.errors")


class ProblemError(Exception):
    """An error that becomes a problem+json answer with this class's status."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers) if headers else None


class BadRequestError(ProblemError):
    """The request is not valid: ``errors`` maps each invalid field to its message."""

    status = 400
    slug = "validation-error"


# The wordings of every 401 about a bearer token (messages and challenges, not secrets).
BEARER_TOKEN_REQUIRED = "A valid bearer token is required"  # noqa: S105
BEARER_TOKEN_NOT_VALID = "The bearer token is not valid"  # noqa: S105
BEARER_CHALLENGE = "Bearer"
INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'  # noqa: S105


class UnauthorizedError(ProblemError):
    """401 with the RFC 6750 challenge: ``Bearer`` when no bearer token came, ``Bearer
    error="invalid_token"`` (``invalid_token=True``) when the one that came is not valid."""

    status = 401
    slug = "unauthorized"

    def __init__(self, detail: str = BEARER_TOKEN_REQUIRED, *, invalid_token: bool = False) -> None:
        challenge = INVALID_TOKEN_CHALLENGE if invalid_token else BEARER_CHALLENGE
        super().__init__(detail, headers={WWW_AUTHENTICATE_HEADER: challenge})


class ForbiddenError(ProblemError):
    """The caller's role does not allow this action."""

    status = 403
    slug = "forbidden"


class NotFoundError(ProblemError):
    """The resource does not exist."""

    status = 404
    slug = "not-found"


class ConflictError(ProblemError):
    """The request conflicts with the current state of the resource."""

    status = 409
    slug = "conflict"


class PreconditionFailedError(ProblemError):
    """The resource changed since it was read (``If-Match`` names an older version)."""

    status = 412
    slug = "precondition-failed"


class UnprocessableError(ProblemError):
    """The request is well formed but cannot be processed as it stands."""

    status = 422
    slug = "unprocessable"


class TooManyRequestsError(ProblemError):
    """Too many requests; ``Retry-After`` says how many seconds to wait."""

    status = 429
    slug = "too-many-requests"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={RETRY_AFTER_HEADER: str(max(1, retry_after_seconds))})


class ServiceUnavailableError(ProblemError):
    """A service this request needs does not answer (or this one is at capacity); try
    again later, after ``retry_after_seconds`` when it is given."""

    status = 503
    slug = "service-unavailable"

    def __init__(self, detail: str, retry_after_seconds: int | None = None) -> None:
        headers = (
            None
            if retry_after_seconds is None
            else {RETRY_AFTER_HEADER: str(max(1, retry_after_seconds))}
        )
        super().__init__(detail, headers=headers)


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Build the one problem+json body shape that every service answers with."""
    title = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
        "requestId": current_request_id(),
    }
    if errors:
        body["errors"] = dict(errors)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_CONTENT_TYPE)


def _absent_not_null(schema: JsonDict) -> None:
    """An optional member is left out of the body, never null: no ``"default": null``."""
    schema.pop("default", None)


class ProblemOut(BaseModel):
    """RFC 9457 problem details: the body of every error answer (``application/problem+json``)."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    type: str = Field(
        description="A URI naming the kind of problem", examples=[PROBLEM_TYPE_BASE + "not-found"]
    )
    title: str = Field(description="The HTTP status phrase", examples=["Not Found"])
    status: int = Field(description="The HTTP status code", examples=[404])
    detail: str = Field(description="What went wrong, in words for people")
    request_id: str | None = Field(
        alias="requestId",
        title="Request Id",
        description="The request's X-Request-ID (null outside a request)",
    )
    errors: dict[str, str] | SkipJsonSchema[None] = Field(
        default=None,
        description="Each invalid field and its message (validation errors only)",
        json_schema_extra=_absent_not_null,
    )


PROBLEM_SCHEMA_REF = "#/components/schemas/" + ProblemOut.__name__
# Listed together on a route behind CurrentPrincipal / require_roles(...), e.g.
# ``responses=problem_responses(*ROLE_REFUSALS, NotFoundError)``.
TOKEN_REFUSALS: tuple[type[ProblemError], ...] = (UnauthorizedError,)
ROLE_REFUSALS: tuple[type[ProblemError], ...] = (UnauthorizedError, ForbiddenError)
_RESPONSE_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        WWW_AUTHENTICATE_HEADER: {
            "description": "The bearer challenge (RFC 6750)",
            "schema": {"type": "string"},
        }
    },
    429: {RETRY_AFTER_HEADER: {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}


def problem_responses(
    *errors: type[ProblemError] | int, descriptions: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: the problem answers it may give, one entry per status.

    Each is documented as ``application/problem+json`` with the :class:`ProblemOut`
    schema. The description is ``descriptions[status]`` when given, else what the error
    classes say (their fixed detail, else their docstring; several are listed), else the
    HTTP phrase; a bare status code stands for its phrase. The schema itself is added to
    the document by :func:`pms_platform.openapi.document_problems`.
    """
    by_status: dict[int, list[str]] = {}
    for error in errors:
        status = error if isinstance(error, int) else error.status
        said = by_status.setdefault(status, [])
        description = HTTPStatus(status).phrase if isinstance(error, int) else _described(error)
        if description not in said:
            said.append(description)
    overrides = descriptions or {}
    responses: dict[int | str, dict[str, Any]] = {}
    for status in sorted(by_status):
        said = by_status[status]
        description = overrides.get(status) or (
            said[0] if len(said) == 1 else "\n".join(f"- {line}" for line in said)
        )
        response: dict[str, Any] = {
            "description": description,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        }
        if status in _RESPONSE_HEADERS:
            response["headers"] = copy.deepcopy(_RESPONSE_HEADERS[status])
        responses[status] = response
    return responses


def _described(error: type[ProblemError]) -> str:
    """The fixed detail (and field messages) of a class built without arguments, else
    the first paragraph of its docstring."""
    try:
        instance = cast("Callable[[], ProblemError]", error)()
    except TypeError:  # the detail is the raiser's to give
        detail = ""
    else:
        fields = [f"{name}: {said}" for name, said in (instance.errors or {}).items()]
        fields = [field for field in fields if not field.endswith(": " + instance.detail)]
        detail = instance.detail + (f" ({'; '.join(fields)})" if fields else "")
    for cls in error.__mro__[: error.__mro__.index(ProblemError)]:
        if not detail and cls.__doc__:
            detail = inspect.cleandoc(cls.__doc__).split("\n\n")[0]
    return " ".join(detail.split()) or HTTPStatus(error.status).phrase


def field_errors(validation_errors: Sequence[Any]) -> dict[str, str]:
    """Map pydantic error locations to ``field -> message`` (first message wins per field).

    ``("body", "dateOfBirth")`` becomes ``dateOfBirth``; nested fields are dotted; a body
    that is not an object at all is reported under ``body``. Keys are camelCase, the
    JSON names of every API here, also when pydantic reports a Python attribute name
    (it does so for a missing field that has a default). A body that is not JSON at all is
    ``body`` too (pydantic locates that error at a character offset).
    """
    messages: dict[str, str] = {}
    for error in validation_errors:
        if error.get("type") == "json_invalid":
            # Its location is a character offset ("body", 13), not a field: the body it is.
            messages.setdefault("body", str(error.get("msg", "JSON decode error")))
            continue
        location = [
            to_camel(str(part))
            for part in error.get("loc", ())
            if part not in ("body", "query", "path", "header")
        ]
        field = ".".join(location) or "body"
        message = str(error.get("msg", "Invalid value"))
        # pydantic prefixes messages of custom validators with "Value error, ".
        message = message.removeprefix("Value error, ")
        messages.setdefault(field, message)
    return messages


def problem_response_for(error: ProblemError) -> JSONResponse:
    """The answer to ``error``: the same bytes from a service's handler and the gateway."""
    return problem_response(
        error.status, error.detail, slug=error.slug, errors=error.errors, headers=error.headers
    )


async def _on_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response_for(exc)


async def _on_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        400, VALIDATION_DETAIL, slug="validation-error", errors=field_errors(exc.errors())
    )


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return problem_response(exc.status_code, str(exc.detail), headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method of the path: Starlette's own ``Allow`` names only the first route's,
    and a path such as ``/users`` has a route per method."""
    path: str = request.scope["path"]
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(path):
            methods.update(route.methods or ())
    return ", ".join(sorted(methods))


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled error", error_type=type(exc).__name__, exc_info=exc)
    return problem_response(500, UNEXPECTED_DETAIL)


UnavailabilityTest = Callable[[BaseException], bool]
"""Whether an error says a dependency cannot answer now (see ``UnhandledErrorMiddleware``)."""


class UnhandledErrorMiddleware:
    """The last word on an error that no handler turned into an answer.

    It runs inside the request context, so the problem body carries the request id, and
    it answers instead of raising: an error raised out of the app makes uvicorn close the
    connection, which a client (or the gateway in front, as a 502) sees as a reset. An
    error that ``is_unavailable`` recognises (a database outage, for a service with a
    database) is a 503 with ``Retry-After``, logged as one warning line without a stack
    (an outage fails every request alike); any other is a 500, logged once with its
    stack. An error after the response started cannot be answered: it is raised.
    """

    def __init__(self, app: ASGIApp, is_unavailable: UnavailabilityTest | None = None) -> None:
        self.app = app
        self.is_unavailable = is_unavailable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noting_start(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, noting_start)
        except Exception as error:
            if started:
                raise
            await self._answer(error)(scope, receive, send)

    def _answer(self, error: Exception) -> JSONResponse:
        if self.is_unavailable is not None and self.is_unavailable(error):
            _log.warning("dependency unavailable", error_type=type(error).__name__)
            return problem_response_for(
                ServiceUnavailableError(UNAVAILABLE_DETAIL, UNAVAILABLE_RETRY_AFTER_SECONDS)
            )
        _log.error("unhandled error", error_type=type(error).__name__, exc_info=error)
        return problem_response(500, UNEXPECTED_DETAIL)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
