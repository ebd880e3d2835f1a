"""The client's request body, read whole and counted before the upstream is asked.

Why whole, when answers stream: a body streamed upstream as it arrives holds an upstream
connection for as long as the client takes to send it, and a hundred clients dribbling
their uploads took every connection to a service from everyone else. Bodies are capped
(``max_body_bytes``, 1 MiB), so holding one in memory is cheap; it must arrive within
``body_timeout_seconds`` (else 408), and goes upstream with a ``Content-Length``. A body
larger than the limit stops the read, with or without a ``Content-Length``: a 413.
"""

import asyncio

from starlette.types import Receive

from pms_gateway.headers import RawHeaders


class RequestBodyTooLarge(Exception):
    pass


class RequestBodyTimedOut(Exception):
    pass


class ClientDisconnected(Exception):
    pass


class RequestBody:
    def __init__(self, receive: Receive, limit: int, declared_length: int | None) -> None:
        self._receive = receive
        self.limit = limit
        self.declared_length = declared_length

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

    async def read(self, timeout_seconds: float) -> bytes:
        """All of the body, received within ``timeout_seconds``."""
        chunks: list[bytes] = []
        received = 0
        try:
            async with asyncio.timeout(timeout_seconds):
                while True:
                    message = await self._receive()
                    if message["type"] == "http.disconnect":
                        raise ClientDisconnected()
                    chunk: bytes = message.get("body", b"")
                    received += len(chunk)
                    if received > self.limit:
                        raise RequestBodyTooLarge()
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise RequestBodyTimedOut() from None
