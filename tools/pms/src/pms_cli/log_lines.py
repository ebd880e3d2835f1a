"""Log lines for a person at a terminal: the services write one JSON object per line (for
files, containers and log shippers); ``pms up`` and ``pms logs`` show them as short,
coloured lines when their output is a terminal, and keep the files as they are.

``16:20:06  auth       INFO  request  method=POST path=/login status=200 duration_ms=648.71``
"""

import json
import os
from typing import Any

from rich.text import Text

# Fields every line has, shown in their own columns (or not at all) instead of as key=value.
_COLUMNS = frozenset({"event", "level", "logger", "timestamp", "service", "request_id"})
_LEVEL_STYLES = {
    "debug": "dim",
    "info": "green",
    "warning": "bold yellow",
    "error": "bold red",
    "critical": "bold white on red",
}
# The project's own loggers; everything else (uvicorn, aiokafka, httpx, ...) is a library's,
# and a library's INFO lines (group joins, "Started server process") are chatter at a
# terminal: they stay in the log files.
_PROJECT_LOGGER_PREFIXES = ("pms.", "pms_")
_QUIET_LEVELS = frozenset({"debug", "info"})
# `PMS_LOG_VIEW=json` shows the raw lines at a terminal too (to copy one into a tool).
VIEW_SETTING = "PMS_LOG_VIEW"


def readable_view_wanted(is_terminal: bool) -> bool:
    """Readable lines at a terminal, raw JSON otherwise or when asked for."""
    return is_terminal and os.environ.get(VIEW_SETTING, "").strip().lower() != "json"


def _parse(raw: str) -> dict[str, Any] | None:
    if not raw.startswith("{"):
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def is_library_chatter(fields: dict[str, Any]) -> bool:
    logger = str(fields.get("logger", ""))
    level = str(fields.get("level", "info")).lower()
    return level in _QUIET_LEVELS and not logger.startswith(_PROJECT_LOGGER_PREFIXES)


def _clock(timestamp: object) -> str:
    # ISO 8601 from the services ("2026-12-02T16:20:06.084728Z"): the time of day is enough
    # at a terminal, to the second.
    text = str(timestamp)
    return text[11:19] if len(text) >= 19 and text[10] == "T" else text


def _value(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return json.dumps(text) if (" " in text or not text) else text


def readable_line(raw: str, service: str, service_style: str) -> Text | None:
    """One log line as a person reads it; ``None`` for a library's chatter.

    A line that is not JSON (a traceback printed before logging was set up, a library
    writing to stdout) is shown as it is, after the service's name."""
    name = Text(f"{service:<10} ", style=service_style)
    fields = _parse(raw)
    if fields is None:
        return Text.assemble(name, raw)
    if is_library_chatter(fields):
        return None
    level = str(fields.get("level", "info")).lower()
    line = Text.assemble(
        (f"{_clock(fields.get('timestamp', ''))}  ", "dim"),
        name,
        (f"{level.upper():<5} ", _LEVEL_STYLES.get(level, "")),
        (str(fields.get("event", "")), "bold" if level not in _QUIET_LEVELS else ""),
    )
    exception = fields.get("exception")
    extras = [
        f"{key}={_value(value)}"
        for key, value in fields.items()
        if key not in _COLUMNS and key != "exception"
    ]
    if extras:
        line.append("  " + " ".join(extras), style="cyan")
    if exception:
        line.append("\n" + str(exception).rstrip(), style="red")
    return line
