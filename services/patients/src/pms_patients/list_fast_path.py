"""``GET /patients``, the hottest route, answered before FastAPI's routing when the
request is a plain one.

A cached page costs the patients process about half a millisecond of CPU per read, and
FastAPI's and Starlette's per-request machinery (routing, solving the route's
dependencies, validating the query model, building the ``Response``, and the three
middleware layers inside ours) was the largest part of it (``bench/README.md``,
2026-12-08). This middleware sits inside the platform's (request id and access log,
metrics, load shedding, the answer to an unhandled error) and answers a plain list
itself, with the same service call and the same bytes as the route in
:mod:`pms_patients.api`.

Plain means: ``GET /patients`` with an ASCII query string in which ``page``, ``size``,
``search`` and ``sort`` come at most once each and pass :class:`PatientListQuery`, and a
bearer token of an ADMIN or CLINICIAN. Anything else (no token, a bad one, another role,
a bad or repeated parameter, another method or path) goes on to FastAPI, which answers
as it always has: the 400, 401 and 403 problem bodies are still the route's own.
"""

from collections.abc import Collection
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from pms_patients.schemas import PatientListQuery
from pms_patients.service import PatientService
from pms_platform.db import Database
from pms_platform.errors import ProblemError
from pms_platform.paging import LINK_HEADER, TOTAL_COUNT_HEADER, link_header_of_query
from pms_platform.security import Role, TokenVerifier, authorize

LIST_PATH = "/patients"
_PARAMETERS = frozenset(PatientListQuery.model_fields)
_TOTAL_COUNT = TOTAL_COUNT_HEADER.lower().encode()
_LINK = LINK_HEADER.lower().encode()


def plain_list_query(query_string: bytes) -> PatientListQuery | None:
    """The list's query, when FastAPI would read the same one from ``query_string``
    without an error; ``None`` for anything else (FastAPI then answers)."""
    if not query_string.isascii() or b"#" in query_string:
        return None
    values: dict[str, str] = {}
    for name, value in parse_qsl(query_string.decode(), keep_blank_values=True):
        if name in _PARAMETERS:
            if name in values:
                return None
            values[name] = value
    try:
        return PatientListQuery.model_validate(values)
    except ValidationError:
        return None


class PatientListFastPath:
    """Pure ASGI middleware: a plain ``GET /patients`` answered here, all else passed on.

    ``roles`` are the route's readers; ``route`` is what the router would have left in
    the scope (its ``path`` is the metrics' route label)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        database: Database,
        service: PatientService,
        verifier: TokenVerifier,
        roles: Collection[Role],
        route: BaseRoute,
    ) -> None:
        self.app = app
        self.database = database
        self.service = service
        self.verifier = verifier
        self.route = route
        self.roles = frozenset(roles)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != LIST_PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        query_string: bytes = scope["query_string"]
        query = plain_list_query(query_string)
        authorization = Headers(scope=scope).get("authorization")  # as the route reads it
        if query is None or authorization is None:
            await self.app(scope, receive, send)
            return
        try:
            actor = await authorize(authorization, self.verifier, self.roles)
        except ProblemError:  # FastAPI's route gives the refusal its usual answer
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        async with self.database.connection() as connection:
            page = await self.service.list(connection, actor, query)
        # The headers of the route's Response, in its order.
        headers = [
            (b"content-length", str(len(page.body)).encode()),
            (b"content-type", b"application/json"),
            (_TOTAL_COUNT, str(page.total).encode()),
        ]
        if link := link_header_of_query(query_string.decode(), query.page, query.size, page.total):
            headers.append((_LINK, link.encode("latin-1")))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": page.body})
