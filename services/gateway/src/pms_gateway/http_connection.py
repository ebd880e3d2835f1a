"""One keep-alive HTTP/1.1 connection to an upstream, and the answer read from it.

Why its own client rather than aiohttp's (which the gateway used before): on this
project's 2-core machine aiohttp's client spent about 300 us of CPU per proxied GET of a
15 KB answer (request and response objects, multidicts, URL, cookie and timer handling
on every call), more than everything else the gateway does. A proxy needs none of it:
it sends a request head that it built as bytes and a body (bytes or a stream), and
takes back the status, the raw headers and the body, whole or streamed. Parsing is
httptools' (llhttp, the parser uvicorn uses); this client costs about 40 us a request.

Timeouts: ``connect_timeout`` bounds opening a connection; ``read_timeout`` is the
longest silence from the upstream once the request is sent (reset by every byte that
arrives, as aiohttp's ``sock_read``), not a bound on the whole answer. Nothing is
retried here: the caller knows which requests may be repeated (:class:`ConnectFailed`
and :class:`ConnectTimedOut` mean nothing was sent).
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol, cast

import httptools

# Buffered response bytes at which reading from the upstream pauses until the client
# has taken them: a large download streams instead of piling up in memory.
_HIGH_WATER = 256 * 1024
_FRAMING_NAME_LENGTHS = frozenset({len(b"content-length"), len(b"transfer-encoding")})


class UpstreamError(Exception):
    """The upstream gave no usable answer."""


class ConnectFailed(UpstreamError):
    """No connection (refused, unreachable, unknown host): nothing was sent."""


class ConnectTimedOut(UpstreamError):
    """No connection within the connect timeout: nothing was sent."""


class ResponseTimedOut(UpstreamError):
    """The upstream sent nothing for longer than the read timeout."""


class ConnectionBroken(UpstreamError):
    """The connection dropped before the answer was complete, or the answer was not HTTP."""


class UnexpectedStatus(UpstreamError):
    """An answer with an error status where a document was expected."""


class UpstreamResponse:
    """An answer's status and raw headers; its body is read whole or streamed, once.
    Exactly one of :meth:`release` (the connection may be reused) or :meth:`close`
    ends it."""

    __slots__ = ("_connection", "content_length", "headers", "status")

    def __init__(
        self,
        connection: "HttpConnection",
        status: int,
        headers: list[tuple[bytes, bytes]],
        content_length: int | None,
    ) -> None:
        self._connection = connection
        self.status = status
        self.headers = headers
        self.content_length = content_length

    @property
    def complete(self) -> bool:
        """Whether the whole body has arrived (always, for an answer without one)."""
        return self._connection.body_complete

    async def read(self) -> bytes:
        return await self._connection.read_body()

    def iter_chunks(self) -> AsyncIterator[bytes]:
        return self._connection.body_chunks()

    def release(self) -> None:
        self._connection.finish()

    def close(self) -> None:
        self._connection.abort()


class ConnectionOwner(Protocol):
    """What a connection tells its pool: it may carry another request, or it closed."""

    loop: asyncio.AbstractEventLoop

    def put_back(self, connection: "HttpConnection") -> None: ...

    def forget(self, connection: "HttpConnection") -> None: ...


class HttpConnection(asyncio.Protocol):
    """One connection, one request at a time; the state of the answer being read."""

    def __init__(self, pool: "ConnectionOwner") -> None:
        self._pool = pool
        self._loop = pool.loop
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._parser_fresh = True
        self._waiter: asyncio.Future[None] | None = None
        self._write_waiter: asyncio.Future[None] | None = None
        self._response: UpstreamResponse | None = None
        self._error: UpstreamError | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._content_length: int | None = None
        self._chunked = False
        self._head_only = False
        self._interim = False
        self._request_whole = True
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._complete = False
        self._keep_alive = False
        self._reading_paused = False
        self._read_timeout = 0.0
        self._last_data = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._pool.forget(self)
        if self._response is None or not self._complete:
            if self._response is not None and not self._content_length and not self._chunked:
                self._complete = True  # an answer without framing ends with the connection
            else:
                self._fail(ConnectionBroken("the upstream closed the connection"))
        self._wake()
        self._wake_writer()

    def data_received(self, data: bytes) -> None:
        self._last_data = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ConnectionBroken(f"not an HTTP answer: {error}"))
            self.abort()

    def pause_writing(self) -> None:
        self._write_waiter = self._loop.create_future()

    def resume_writing(self) -> None:
        self._wake_writer()

    # -- httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))
        if len(name) not in _FRAMING_NAME_LENGTHS:
            return  # neither of the two names below: no need to lower-case it
        lowered = name.lower()
        if lowered == b"content-length":
            try:
                self._content_length = int(value)
            except ValueError:
                self._content_length = None
        elif lowered == b"transfer-encoding":
            self._chunked = b"chunked" in value.lower()

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            self._interim = True  # "100 Continue" and the like: the answer comes after
            return
        self._response = UpstreamResponse(self, status, self._headers, self._content_length)
        if self._head_only:
            # The answer to HEAD has no body, whatever its length says; llhttp cannot
            # know that, so this parser is done and the next request gets a new one.
            self._parser_fresh = False
            self._message_complete()
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._head_only:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and not self._reading_paused and self.transport:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            self._headers = []
            self._content_length = None
            self._chunked = False
            return
        if not self._head_only:
            self._message_complete()

    # -- the exchange

    @property
    def body_complete(self) -> bool:
        return self._complete

    async def exchange(
        self,
        head: bytes,
        body: bytes | AsyncIterable[bytes] | None,
        *,
        chunked: bool,
        read_timeout: float,
        head_only: bool,
    ) -> UpstreamResponse:
        """Send one request and wait for its answer's status and headers."""
        transport = self.transport
        assert transport is not None
        if not self._parser_fresh:
            self._parser = httptools.HttpResponseParser(self)
            self._parser_fresh = True
        self._head_only = head_only
        self._interim = False
        self._request_whole = True
        self._read_timeout = read_timeout
        if body is None or isinstance(body, bytes):
            transport.write(head + body if body else head)
        else:
            transport.write(head)
            await self._send_stream(body, chunked)
        if self._response is None and self._error is None:
            self._last_data = self._loop.time()
            self._timer = self._loop.call_at(self._last_data + read_timeout, self._check_timeout)
            while self._response is None and self._error is None:
                await self._next_event()
        if self._error is not None:
            raise self._error
        assert self._response is not None
        return self._response

    async def _send_stream(self, body: AsyncIterable[bytes], chunked: bool) -> None:
        transport = self.transport
        assert transport is not None
        async for chunk in body:
            if self.lost or self._response is not None:
                # The upstream answered (or left) before the whole body was sent: the
                # answer stands, but this connection can carry no other request.
                self._request_whole = False
                return
            if chunked:
                transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            else:
                transport.write(chunk)
            if self._write_waiter is not None:
                try:
                    async with asyncio.timeout(self._read_timeout):
                        await self._write_waiter
                except TimeoutError:
                    raise ResponseTimedOut("the upstream stopped reading the body") from None
        if chunked and not self.lost:
            transport.write(b"0\r\n\r\n")

    async def read_body(self) -> bytes:
        while not self._complete:
            if self._error is not None:
                raise self._error
            self._resume_reading()
            await self._next_event()
        if self._error is not None:
            raise self._error
        body = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        return body

    async def body_chunks(self) -> AsyncIterator[bytes]:
        while True:
            while self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                yield chunk
            if self._complete:
                return
            if self._error is not None:
                raise self._error
            self._resume_reading()
            await self._next_event()

    def finish(self) -> None:
        """The answer was used: back to the pool if it is whole and the connection may
        carry another request, closed otherwise."""
        if self._complete and self._keep_alive and self._request_whole and not self.lost:
            self._reset()
            self._pool.put_back(self)
        else:
            self.abort()

    def abort(self) -> None:
        self._cancel_timer()
        if self.transport is not None:
            self.transport.abort()  # connection_lost follows, and tells the pool
        elif not self.lost:
            self.lost = True
            self._pool.forget(self)

    # -- internals

    def _next_event(self) -> "asyncio.Future[None]":
        """What to await until the parser has news. A future, not a coroutine: one
        level less for every resumption to pass through."""
        self._waiter = waiter = self._loop.create_future()
        return waiter

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_writer(self) -> None:
        waiter, self._write_waiter = self._write_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        if self._error is None:
            self._error = error
        self._cancel_timer()
        self._wake()

    def _message_complete(self) -> None:
        self._complete = True
        self._keep_alive = self._parser.should_keep_alive()
        self._cancel_timer()
        self._wake()

    def _resume_reading(self) -> None:
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self._last_data = self._loop.time()
            self.transport.resume_reading()

    def _check_timeout(self) -> None:
        self._timer = None
        if self._complete or self._error is not None:
            return
        now = self._loop.time()
        if self._reading_paused:
            self._last_data = now  # waiting for our client, not for the upstream
        deadline = self._last_data + self._read_timeout
        if now < deadline:
            self._timer = self._loop.call_at(deadline, self._check_timeout)
            return
        self._fail(ResponseTimedOut(f"no data from the upstream for {self._read_timeout} s"))
        self.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _reset(self) -> None:
        self._cancel_timer()
        self._response = None
        self._error = None
        self._headers = []
        self._content_length = None
        self._chunked = False
        self._chunks.clear()
        self._buffered = 0
        self._complete = False
        self._keep_alive = False
        self._resume_reading()
