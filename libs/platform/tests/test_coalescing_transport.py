"""A response leaves in one write: the platform's HTTP protocol joins uvicorn's head and
body writes of one event-loop turn, and keeps order, back-pressure, close and abort."""

import asyncio
from typing import Any

import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.server import ServerState

from pms_platform.coalescing_transport import FLUSH_AT_BYTES, CoalescingTransport
from pms_platform.http_protocol import HeaderTimeoutProtocol

BODY = b'{"content":[]}'


class RecordingTransport(asyncio.Transport):
    """Keeps every write it is given; closes when told."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 4000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _page(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


async def test_uvicorn_writes_a_response_head_and_body_in_one_call() -> None:
    config = uvicorn.Config(_page, log_config=None, access_log=False, lifespan="off", ws="none")
    config.load()
    protocol = HeaderTimeoutProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(b"GET /api/patients HTTP/1.1\r\nHost: test\r\n\r\n")
    for _ in range(20):
        await asyncio.sleep(0)
    protocol.connection_lost(None)
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == BODY


async def test_writes_of_one_turn_leave_together_and_in_order_at_its_end() -> None:
    transport = RecordingTransport()
    coalescing = CoalescingTransport(transport, asyncio.get_running_loop())
    coalescing.write(b"head\r\n\r\n")
    coalescing.write(b"")
    coalescing.write(memoryview(b"body"))
    assert transport.writes == []
    assert coalescing.get_write_buffer_size() == len(b"head\r\n\r\nbody")
    await asyncio.sleep(0)
    assert transport.writes == [b"head\r\n\r\nbody"]
    coalescing.write(b"next")
    await asyncio.sleep(0)
    assert transport.writes == [b"head\r\n\r\nbody", b"next"]


async def test_a_large_stream_is_passed_on_without_waiting_for_the_turn_to_end() -> None:
    transport = RecordingTransport()
    coalescing = CoalescingTransport(transport, asyncio.get_running_loop())
    chunk = b"x" * (FLUSH_AT_BYTES // 2)
    coalescing.write(chunk)
    coalescing.write(chunk)
    # The real transport has the data now, so its pause_writing can stop the writer.
    assert transport.writes == [chunk + chunk]
    await asyncio.sleep(0)
    assert transport.writes == [chunk + chunk]


async def test_close_sends_what_is_buffered_first_and_abort_drops_it() -> None:
    loop = asyncio.get_running_loop()
    closed, aborted = RecordingTransport(), RecordingTransport()
    closing = CoalescingTransport(closed, loop)
    closing.write(b"last words")
    closing.close()
    assert closed.writes == [b"last words"]
    assert closed.closed
    aborting = CoalescingTransport(aborted, loop)
    aborting.write(b"never sent")
    aborting.abort()
    await asyncio.sleep(0)
    assert aborted.writes == []
    assert aborted.aborted


async def test_nothing_is_written_to_a_transport_that_closed_meanwhile() -> None:
    transport = RecordingTransport()
    coalescing = CoalescingTransport(transport, asyncio.get_running_loop())
    coalescing.write(b"late")
    transport.closed = True
    await asyncio.sleep(0)
    assert transport.writes == []
    assert coalescing.is_closing()
