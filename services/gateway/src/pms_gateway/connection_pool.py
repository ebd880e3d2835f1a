"""The gateway's HTTP client: a pool of keep-alive connections to one upstream.

See :mod:`pms_gateway.http_connection` for why the gateway has its own client. The pool
opens at most ``size`` connections, reuses the most recently used idle one, and drops
an idle one older than the keep-alive; a request that finds every connection busy waits
for one to come back.
"""

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterable

from pms_gateway.http_connection import (
    ConnectFailed,
    ConnectTimedOut,
    HttpConnection,
    UpstreamResponse,
)


class ConnectionPool:
    """Up to ``size`` connections to ``host:port``; an idle one is reused for at most
    ``keepalive_seconds`` (below the upstream's own keep-alive, so that a request is
    never written into a connection the upstream is closing)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        size: int,
        keepalive_seconds: float,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self._host = host
        self._port = port
        self._size = size
        self._keepalive = keepalive_seconds
        self._tls = tls
        self._address = f"{host}:{port}"
        self._idle: list[HttpConnection] = []
        self._open: set[HttpConnection] = set()
        self._opening = 0
        self._waiters: deque[asyncio.Future[HttpConnection | None]] = deque()
        self._closed = False

    async def request(
        self,
        head: bytes,
        body: bytes | AsyncIterable[bytes] | None = None,
        *,
        chunked: bool = False,
        connect_timeout: float,
        read_timeout: float,
        head_only: bool = False,
    ) -> UpstreamResponse:
        """Send ``head`` (request line and headers, ending with the blank line) and
        ``body`` (a stream is sent chunk-encoded when ``chunked``); the answer's head."""
        connection = await self._acquire(connect_timeout)
        try:
            return await connection.exchange(
                head, body, chunked=chunked, read_timeout=read_timeout, head_only=head_only
            )
        except BaseException:
            connection.abort()
            raise

    async def close(self) -> None:
        self._closed = True
        for connection in list(self._open):
            connection.abort()
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectFailed("the client is closed"))

    def put_back(self, connection: HttpConnection) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        connection.idle_since = self.loop.time()
        self._idle.append(connection)

    def forget(self, connection: HttpConnection) -> None:
        """``connection`` is closed: it leaves the pool, and its place is free."""
        if connection in self._open:
            self._open.discard(connection)
            if connection in self._idle:
                self._idle.remove(connection)
            self._offer_place()

    def _offer_place(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _acquire(self, connect_timeout: float) -> HttpConnection:
        if self._closed:
            raise ConnectFailed("the client is closed")
        idle = self._idle
        if idle:
            stale_before = self.loop.time() - self._keepalive
            while idle:
                connection = idle.pop()
                if connection.idle_since >= stale_before and not connection.lost:
                    return connection
                connection.abort()
        while len(self._open) + self._opening >= self._size:
            waiter: asyncio.Future[HttpConnection | None] = self.loop.create_future()
            self._waiters.append(waiter)
            try:
                handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    handed_over = waiter.result()
                    if handed_over is not None:
                        self.put_back(handed_over)
                    else:
                        self._offer_place()
                raise
            if handed is not None:
                return handed
        return await self._connect(connect_timeout)

    async def _connect(self, connect_timeout: float) -> HttpConnection:
        self._opening += 1
        try:
            async with asyncio.timeout(connect_timeout):
                _, connection = await self.loop.create_connection(
                    lambda: HttpConnection(self), self._host, self._port, ssl=self._tls
                )
        except BaseException as error:
            self._opening -= 1
            self._offer_place()  # the failed attempt's place is free again
            if isinstance(error, TimeoutError):
                raise ConnectTimedOut(f"no connection to {self._address} in time") from None
            if isinstance(error, OSError):
                raise ConnectFailed(f"{self._address}: {error}") from None
            raise
        self._opening -= 1
        self._open.add(connection)
        if self._closed:
            connection.abort()
            raise ConnectFailed("the client is closed")
        return connection
