"""One client request on its way through the gateway, and the means to answer it."""

import asyncio

from starlette.types import Receive, Scope, Send

from pms_gateway.headers import RawHeaders
from pms_platform.errors import ProblemError, problem_response, problem_response_for

DISCARD_IDLE_SECONDS = 0.5
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

    async def discard_body(self, max_bytes: int, seconds: float) -> None:
        """Read and drop what is left of the request body (at most ``max_bytes``, for at
        most ``seconds``) before an early answer such as a 413.

        Many clients (Python's urllib, most SDKs) send the whole body before they read
        anything; a server that answers and closes while they are still sending makes
        the kernel reset the connection, and they see "connection reset" instead of the
        answer. (Once the answer is sent the server stops reading: hence before.) A
        client that sent ``Expect: 100-continue`` waits for the answer instead: it gets
        it at once, and sends nothing."""
        if any(name == b"expect" for name, _ in self.headers):
            return
        discarded = 0
        try:
            async with asyncio.timeout(seconds):
                while discarded <= max_bytes:
                    # A client that pauses is not sending a body it means to finish.
                    async with asyncio.timeout(DISCARD_IDLE_SECONDS):
                        message = await self.receive()
                    if message["type"] != "http.request" or not message.get("more_body"):
                        return
                    discarded += len(message.get("body", b""))
        except TimeoutError:
            return

    async def note_client_gone(self) -> None:
        """The client left before an answer: the server drops this message, but the access
        log and the metrics record a 499 instead of a 500."""
        await self.send(
            {"type": "http.response.start", "status": CLIENT_CLOSED_REQUEST, "headers": []}
        )
