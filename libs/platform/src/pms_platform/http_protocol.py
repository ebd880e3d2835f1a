"""uvicorn's httptools protocol with a deadline on the request head.

uvicorn bounds an idle keep-alive connection (``timeout_keep_alive``) but nothing else:
a client that connects and sends nothing, or sends its request line and headers a byte
at a time and never the blank line, holds a socket and a parser for as long as it
likes, and a few hundred such clients hold the server. Here the head of each request
must be complete within ``header_timeout_seconds`` of the connection being made (first
request) or of its first byte (later requests on a kept connection); otherwise the
client gets a 408 problem and the connection is closed. The body is the app's to time:
it is read under the app's own deadline (the gateway's ``BODY_TIMEOUT_SECONDS``).

Its responses go out through a ``CoalescingTransport``: head and body in one write.
"""

import asyncio
import functools
import json
from typing import Any, cast

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from pms_platform.coalescing_transport import CoalescingTransport
from pms_platform.errors import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE

DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0


def _request_timeout_response(
    default_headers: list[tuple[bytes, bytes]], timeout_seconds: float
) -> bytes:
    body = json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + "request-timeout",
            "title": "Request Timeout",
            "status": 408,
            "detail": f"The request head was not received within {timeout_seconds:g} s",
        }
    ).encode()
    lines = [STATUS_LINE[408]]
    lines += [b"%b: %b\r\n" % pair for pair in default_headers]
    lines += [
        b"content-type: %b\r\n" % PROBLEM_CONTENT_TYPE.encode(),
        b"content-length: %d\r\n" % len(body),
        b"connection: close\r\n\r\n",
        body,
    ]
    return b"".join(lines)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` whose request heads must arrive within a deadline, and whose
    responses are written once per turn of the event loop."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout_seconds = header_timeout_seconds
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport
    ) -> None:
        super().connection_made(transport)
        # uvicorn's flow control keeps the real transport (set above); the request cycles
        # write through this one.
        self.transport = cast(asyncio.Transport, CoalescingTransport(transport, self.loop))
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # The first request's clock started with the connection: a client trickling its
        # head gains nothing by sending a first byte early.
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        super().on_headers_complete()

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.header_timeout_seconds, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head is late while an earlier response is still being written:
            # let that response finish, then close instead of reading on.
            self.cycle.keep_alive = False
            return
        response = _request_timeout_response(
            self.server_state.default_headers, self.header_timeout_seconds
        )
        self.transport.write(response)
        self.transport.close()


def header_timeout_protocol(header_timeout_seconds: float) -> type[asyncio.Protocol]:
    """The protocol to give uvicorn as ``http=``, with this deadline on request heads.

    A ``functools.partial`` rather than a subclass made on the fly: with several workers
    uvicorn pickles its config (this included) into each worker process, and a partial
    of a module-level class pickles where a class made at run time does not. uvicorn
    only ever calls it with keywords, as it would the class.
    """
    protocol = functools.partial(
        HeaderTimeoutProtocol, header_timeout_seconds=header_timeout_seconds
    )
    return cast(type[asyncio.Protocol], protocol)
