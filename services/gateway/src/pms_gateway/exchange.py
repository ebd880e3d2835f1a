"""One client request on its way through the gateway, and the means to answer it."""

from starlette.types import Receive, Scope, Send

from pms_gateway.headers import RawHeaders
from pms_platform.errors import ProblemError, problem_response, problem_response_for

CLIENT_CLOSED_REQUEST = 499  # nginx's name for it; nothing is sent, it is for logs only


class Exchange:
    __slots__ = ("receive", "scope", "send")

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send

    @property
    def method(self) -> str:
        method: str = self.scope["method"]
        return method

    @property
    def headers(self) -> RawHeaders:
        headers: RawHeaders = self.scope["headers"]
        return headers

    @property
    def client_host(self) -> str:
        client = self.scope.get("client")
        return str(client[0]) if client else "unknown"

    async def problem(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer with the platform's problem+json shape."""
        response = problem_response(status, detail, slug=slug, headers=headers)
        await response(self.scope, self.receive, self.send)

    async def refuse(self, error: ProblemError) -> None:
        """Answer with ``error`` exactly as a service's problem handler would."""
        await problem_response_for(error)(self.scope, self.receive, self.send)

    async def note_client_gone(self) -> None:
        """The client left before an answer: the server drops this message, but the access
        log and the metrics record a 499 instead of a 500."""
        await self.send(
            {"type": "http.response.start", "status": CLIENT_CLOSED_REQUEST, "headers": []}
        )
