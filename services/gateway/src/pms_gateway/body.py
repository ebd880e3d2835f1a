"""The client's request body, streamed to the upstream and counted on the way.

Nothing is buffered (except the small login body, read whole to find its email): each
chunk the client sends goes upstream as it arrives. A body larger than the limit stops
the stream, with or without a ``Content-Length``, and the client gets a 413.
"""

from collections.abc import AsyncIterator

from starlette.types import Receive

from pms_gateway.headers import RawHeaders


class RequestBodyTooLarge(Exception):
    pass


class ClientDisconnected(Exception):
    pass


class RequestBody:
    def __init__(self, receive: Receive, limit: int, declared_length: int | None) -> None:
        self._receive = receive
        self.limit = limit
        self.declared_length = declared_length
        self.received = 0
        self.started = False
        self.complete = False
        self.too_large = False
        self.client_gone = False

    @classmethod
    def from_headers(
        cls, receive: Receive, headers: RawHeaders, limit: int
    ) -> "RequestBody | None":
        """``None`` when the request has no body (neither a length nor chunked framing)."""
        chunked = False
        for name, value in headers:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = limit + 1  # the server rejects these; never forward one
                return cls(receive, limit, length) if length else None
            if name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        return cls(receive, limit, None) if chunked else None

    @property
    def declared_too_large(self) -> bool:
        return self.declared_length is not None and self.declared_length > self.limit

    async def stream(self) -> AsyncIterator[bytes]:
        self.started = True
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.client_gone = True
                raise ClientDisconnected()
            chunk: bytes = message.get("body", b"")
            self.received += len(chunk)
            if self.received > self.limit:
                self.too_large = True
                raise RequestBodyTooLarge()
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                self.complete = True
                return

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.stream()])
