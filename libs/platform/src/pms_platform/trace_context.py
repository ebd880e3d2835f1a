"""W3C trace context (``traceparent``): the header's name, its format, reading a valid
one and continuing it with a new span. The services read it into the request context
(and on into events); the gateway continues or starts one for every proxied request.
"""

import os
import re
from dataclasses import dataclass

TRACEPARENT_HEADER = "traceparent"
TRACESTATE_HEADER = "tracestate"
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


@dataclass(frozen=True)
class TraceParent:
    version: str
    trace_id: str
    parent_id: str
    flags: str
    has_extra_fields: bool


def parse_traceparent(value: str | None) -> TraceParent | None:
    """The header's fields when it is valid: not version ``ff``, no all-zero ids, and
    exactly four fields for version 00 (later versions may append more)."""
    if not value:
        return None
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    parsed = TraceParent(version, trace_id, parent_id, flags, rest is not None)
    valid = (
        version != "ff"
        and trace_id != _ZERO_TRACE
        and parent_id != _ZERO_SPAN
        and (version != "00" or not parsed.has_extra_fields)
    )
    return parsed if valid else None


def is_version_00_traceparent(value: str) -> bool:
    """Exactly a valid version-00 header, as sent (what services carry into events)."""
    parsed = parse_traceparent(value)
    return parsed is not None and parsed.version == "00" and value == value.strip()


def next_traceparent(incoming: str | None) -> tuple[str, bool]:
    """Continue a valid incoming trace with a new span id for this hop, or start a new
    trace. Returns the header and whether it continued."""
    random_hex = os.urandom(24).hex()
    span_id = random_hex[:16]
    parsed = parse_traceparent(incoming)
    if parsed is not None:
        return f"00-{parsed.trace_id}-{span_id}-{parsed.flags}", True
    return f"00-{random_hex[16:]}-{span_id}-01", False
