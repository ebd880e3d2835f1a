"""HTTP without a client library: a request sent byte for byte (nothing tidies it up)
and the raw answer read back."""

import asyncio
from contextlib import suppress
from dataclasses import dataclass

import httpx


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name.lower():
                return value
        return None


async def raw_exchange(base_url: str, request: bytes) -> RawResponse:
    """Send ``request`` byte for byte (no client library to tidy it up); read the answer."""
    host, port = httpx.URL(base_url).host, httpx.URL(base_url).port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = [
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines if line)
        ]
        length = next((int(v) for k, v in headers if k == "content-length"), 0)
        body = await reader.readexactly(length)
        return RawResponse(int(status_line.split()[1]), headers, body)
    finally:
        writer.close()
        with suppress(ConnectionError):
            await writer.wait_closed()
