"""Real HTTP servers for the gateway's tests, in the test's event loop: any ASGI app
under uvicorn on an ephemeral port (the gateway itself, or the echo upstream that
describes what it received), and a raw TCP server that hangs up on requests. Nothing of
the HTTP client is mocked.
"""

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

UPSTREAM_NAMES = ("auth", "patients", "billing", "analytics")
BIG_BODY_BYTES = 5 * 1024 * 1024
CHUNK = 64 * 1024


@asynccontextmanager
async def serve_asgi(
    app: ASGIApp,
    *,
    port: int = 0,
    lifespan: Literal["on", "off"] = "off",
    http: type[asyncio.Protocol] | None = None,
) -> AsyncIterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 (an ephemeral port unless given); its URL.

    ``http`` is the HTTP protocol, as ``pms_platform.server.serve`` passes it (uvicorn's
    own choice unless given)."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=http or "auto",
        log_config=None,
        access_log=False,
        lifespan=lifespan,
        ws="none",
        timeout_graceful_shutdown=1,
        # As ``python -m pms_gateway`` runs by default: X-Forwarded-* is never trusted.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped before it started")
        await asyncio.sleep(0.005)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound_port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Received:
    method: str
    path: str
    raw_path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[-1] if values else None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]


@dataclass
class EchoUpstream:
    """Answers with JSON describing the request it got, and remembers every request.

    Paths ending in ``/status/<code>`` answer that status; ``/slow`` waits ``delay``
    seconds first; ``/big`` streams 5 MiB, holding after the first chunk until
    ``release`` is set; ``/hop`` answers with hop-by-hop headers; ``/openapi.json`` is a
    small OpenAPI document.
    """

    name: str
    delay: float = 2.0
    received: list[Received] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    reader_left: asyncio.Event = field(default_factory=asyncio.Event)

    def reset(self) -> None:
        self.delay = 2.0
        self.received.clear()
        self.release = asyncio.Event()
        self.reader_left = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        path: str = scope["path"]
        request = Received(
            method=scope["method"],
            path=path,
            raw_path=scope["raw_path"].decode("latin-1"),
            query=scope["query_string"].decode("latin-1"),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body=bytes(body),
        )
        self.received.append(request)
        if path.endswith("/big"):
            await self._send_big(receive, send)
            return
        if path.endswith("/slow"):
            await asyncio.sleep(self.delay)
        status = int(path.rsplit("/", 1)[1]) if "/status/" in path else 200
        extra: list[tuple[bytes, bytes]] = [(b"x-request-id", b"set-by-upstream")]
        if path.endswith("/hop"):
            extra += [
                (b"connection", b"x-internal"),
                (b"x-internal", b"secret"),
                (b"keep-alive", b"timeout=5"),
                (b"proxy-authenticate", b"Basic"),
                (b"x-kept", b"yes"),
            ]
        if path == "/openapi.json":
            document: dict[str, Any] = {
                "openapi": "3.1.0",
                "info": {"title": f"{self.name} API", "version": "1"},
                "paths": {f"/{self.name}": {}},
            }
            payload = json.dumps(document).encode()
        else:
            payload = json.dumps(
                {
                    "upstream": self.name,
                    "method": request.method,
                    "path": path,
                    "query": request.query,
                    "bodySha256": hashlib.sha256(body).hexdigest(),
                    "bodyLength": len(body),
                }
            ).encode()
        if status in (204, 304):
            payload = b""
        else:
            extra += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"location", b"/somewhere"), *extra],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _send_big(self, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/octet-stream"),
                    (b"content-length", str(BIG_BODY_BYTES).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": big_chunk(0), "more_body": True})
        disconnect = asyncio.ensure_future(receive())
        released = asyncio.ensure_future(self.release.wait())
        await asyncio.wait({disconnect, released}, return_when=asyncio.FIRST_COMPLETED)
        if disconnect.done():
            released.cancel()
            self.reader_left.set()  # whoever read this response hung up
            return
        disconnect.cancel()
        for index in range(1, BIG_BODY_BYTES // CHUNK):
            last = index == BIG_BODY_BYTES // CHUNK - 1
            await send(
                {"type": "http.response.body", "body": big_chunk(index), "more_body": not last}
            )


def big_chunk(index: int) -> bytes:
    return bytes([index % 251]) * CHUNK


def big_body_sha256() -> str:
    digest = hashlib.sha256()
    for index in range(BIG_BODY_BYTES // CHUNK):
        digest.update(big_chunk(index))
    return digest.hexdigest()


@dataclass
class RunningUpstream:
    app: EchoUpstream
    url: str


class HangUpServer:
    """A raw TCP server that reads a request's head, counts it, and hangs up unanswered:
    the request reached the upstream, and no answer came."""

    def __init__(self) -> None:
        self.requests = 0
        self._server: asyncio.Server | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()
        with suppress(ConnectionError):
            await writer.wait_closed()
