"""RFC 9457 problem details: one error shape for every service.

Domain code raises a :class:`ProblemError` subclass that carries its own status; the
handlers installed by :func:`install_problem_handlers` turn it, FastAPI's validation
errors and Starlette's HTTP errors into ``application/problem+json``. A client's bad
input therefore always gets a 4xx with a field -> message map, never a 500.
"""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException as StarletteHTTPException

from pms_platform.logging import get_logger
from pms_platform.request_context import current_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://pms.example/problems/"
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
    status = 400
    slug = "validation-error"


class UnauthorizedError(ProblemError):
    status = 401
    slug = "unauthorized"

    def __init__(self, detail: str = "A valid bearer token is required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class ForbiddenError(ProblemError):
    status = 403
    slug = "forbidden"


class NotFoundError(ProblemError):
    status = 404
    slug = "not-found"


class ConflictError(ProblemError):
    status = 409
    slug = "conflict"


class PreconditionFailedError(ProblemError):
    status = 412
    slug = "precondition-failed"


class UnprocessableError(ProblemError):
    status = 422
    slug = "unprocessable"


class TooManyRequestsError(ProblemError):
    status = 429
    slug = "too-many-requests"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_seconds))})


class ServiceUnavailableError(ProblemError):
    status = 503
    slug = "service-unavailable"


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


def field_errors(validation_errors: Sequence[Any]) -> dict[str, str]:
    """Map pydantic error locations to ``field -> message`` (first message wins per field).

    ``("body", "dateOfBirth")`` becomes ``dateOfBirth``; nested fields are dotted; a body
    that is not an object at all is reported under ``body``. Keys are camelCase, the
    JSON names of every API here, also when pydantic reports a Python attribute name
    (it does so for a missing field that has a default).
    """
    messages: dict[str, str] = {}
    for error in validation_errors:
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


async def _on_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status, exc.detail, slug=exc.slug, errors=exc.errors, headers=exc.headers
    )


async def _on_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        400, "The request is not valid", slug="validation-error", errors=field_errors(exc.errors())
    )


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled error", error_type=type(exc).__name__, exc_info=exc)
    return problem_response(500, "An unexpected error occurred; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
