"""The gateway's fields in the platform's one access-log line per request.

The proxy binds ``route``, ``upstream`` and ``user_id`` to the logging context; the
platform's request middleware writes the line (method, path without query string,
status, duration, request id) with them. This outermost middleware removes them after
that line, so they never stick to a later request served in the same task.
"""

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

ACCESS_LOG_FIELDS = ("route", "upstream", "user_id")


class AccessLogFieldsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            structlog.contextvars.unbind_contextvars(*ACCESS_LOG_FIELDS)
