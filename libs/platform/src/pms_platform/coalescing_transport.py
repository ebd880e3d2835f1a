"""A transport wrapper that sends a response's head and body in one write.

uvicorn writes the status line and headers as soon as the app sends
``http.response.start``, and the body in a second write. Over TCP each write is a
``send`` system call and, with ``TCP_NODELAY``, its own segment, which the peer reads
with its own wake-up: on this kind of VM those calls were about a quarter of the
gateway's CPU per proxied read (py-spy: self time in uvicorn's ``send``). Writes made
during one turn of the event loop are joined here and handed to the real transport
once, at the end of that turn (``call_soon``), so a small response costs one call.

Nothing waits longer than the current turn of the loop, and a large stream is passed
on as soon as the buffer passes ``FLUSH_AT_BYTES``, so back-pressure (the real
transport's ``pause_writing``) works as before. Closing, ``write_eof`` and ``abort``
deal with the buffer first: close and ``write_eof`` send it, abort drops it.
"""

import asyncio
from typing import Any

FLUSH_AT_BYTES = 64 * 1024


class CoalescingTransport:
    """Joins the writes of one event-loop turn into one write to ``transport``."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._flush_scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._pending.append(bytes(data))
        self._pending_bytes += len(data)
        if self._pending_bytes >= FLUSH_AT_BYTES:
            self.flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._scheduled_flush)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Hands everything buffered to the real transport now."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self.flush()

    def get_write_buffer_size(self) -> int:
        return self._pending_bytes + self._transport.get_write_buffer_size()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._pending_bytes = 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        # Everything else (is_closing, get_extra_info, pause_reading, set_protocol, ...)
        # is the real transport's.
        return getattr(self._transport, name)
