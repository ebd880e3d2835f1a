"""Load shedding: a bounded number of requests in flight, the rest refused at once.

Past its sustainable rate a service that admits everything only queues: each request
waits longer for the event loop and the database pool until its caller (the gateway,
after 15 s) gives up, and the work still runs afterwards, so creates are saved behind
504s. With a bound, a request beyond it is answered 503 with ``Retry-After`` in
microseconds and starts no work; those admitted are served at full speed. Health
checks and metrics are never shed: an orchestrator must see a busy service as alive.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from pms_platform.errors import ServiceUnavailableError, problem_response_for

SHED_RETRY_AFTER_SECONDS = 1
SHED_DETAIL = "The service is at capacity; nothing was done, try again shortly"
_NEVER_SHED = ("/health/", "/metrics")


class LoadSheddingMiddleware:
    """At most ``max_in_flight`` HTTP requests at a time (``0``: no bound)."""

    def __init__(self, app: ASGIApp, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.max_in_flight
            or scope["path"].startswith(_NEVER_SHED)
        ):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            refusal = problem_response_for(
                ServiceUnavailableError(SHED_DETAIL, SHED_RETRY_AFTER_SECONDS)
            )
            await refusal(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
