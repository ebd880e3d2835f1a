"""Structured JSON logs, one event per line, with the request id of the current request.

Keys that may carry secrets or patient details are redacted here, once, so a careless
``log.info(..., password=...)`` cannot leak them.

The platform's own lines go from structlog straight to standard output, rendered by
orjson: routed through the standard library's ``logging`` (a ``LogRecord``, a handler,
a formatter and the caller's frame looked up per line) one access-log line cost about
as much CPU as the patient list it reported. Libraries' lines (uvicorn, aiokafka,
Alembic) still come through ``logging`` and are rendered the same way.
"""

import logging
import sys
import time
import traceback
from collections.abc import Callable, MutableMapping
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import orjson
import structlog
from structlog.typing import ExcInfo, FilteringBoundLogger, Processor

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "password",
        "new_password",
        "token",
        "access_token",
        "refresh_token",
        "authorization",
        "cookie",
        "secret",
        "email",
        "name",
        "address",
        "date_of_birth",
        "dateofbirth",
    }
)


_VALUE_ECHOING_MODULES = ("asyncpg", "sqlalchemy", "pydantic", "pydantic_core")
"""Libraries whose error messages quote the values at hand: PostgreSQL's ``DETAIL`` of a
unique or check violation (``Key (lower(email))=(jane@...) already exists``), a bad
value's text (``invalid input syntax for type date: "..."``), a validation error's
``input_value=``. Their messages are left out of logged tracebacks."""


request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the request (or gRPC call, or consumed event) being served: set by
:mod:`pms_platform.request_context`, written into every line logged meanwhile."""


@lru_cache(maxsize=1024)
def _is_sensitive(key: str) -> bool:
    return key.lower().replace("-", "_") in SENSITIVE_KEYS


def redact_sensitive_values(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the value of every key that names a secret or a patient detail."""
    for key in [key for key in event_dict if _is_sensitive(key)]:
        event_dict[key] = REDACTED
    return event_dict


def _service_and_request_id(service_name: str) -> Processor:
    def add(
        _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", service_name)
        request_id = request_id_var.get()
        if request_id is not None:
            event_dict.setdefault("request_id", request_id)
        return event_dict

    return add


def _json_line(event_dict: Any, **_json_options: Any) -> str:
    """orjson, with ``str()`` for what it cannot encode (what ``json.dumps`` would have
    been told with ``default=``)."""
    return orjson.dumps(event_dict, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def format_exception_without_values(exc_info: ExcInfo) -> str:
    """A traceback as the standard library prints it (frames, chained errors), except
    that an error of a library that quotes values in its messages is shown by its type
    and, for PostgreSQL, its SQLSTATE only: logs must never hold patient details or
    password hashes, and an error's text is where a database puts them."""
    error = exc_info[1]
    if error is None:
        return ""
    chain: list[BaseException] = []  # the error, then what it was raised from or during
    link: BaseException | None = error
    while link is not None and all(link is not seen for seen in chain):
        chain.append(link)
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    parts: list[str] = []
    for older, newer in zip([None, *reversed(chain)], reversed(chain), strict=False):
        if older is not None:
            parts.append(_CAUSE if newer.__cause__ is older else _CONTEXT)
        if newer.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts += traceback.format_tb(newer.__traceback__)
        parts.append(_described(newer) + "\n")
    return "".join(parts).rstrip("\n")


def _described(error: BaseException) -> str:
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    if kind.__module__.split(".", 1)[0] not in _VALUE_ECHOING_MODULES:
        message = str(error)
        return f"{name}: {message}" if message else name
    sqlstate = getattr(error, "sqlstate", None)
    return f"{name} (message withheld{f'; SQLSTATE {sqlstate}' if sqlstate else ''})"


class RepeatLimiter:
    """At most ``burst`` lines of one kind per ``window_seconds``; the first line let
    through after a quiet spell says how many were held back.

    An outage repeats the same complaint hundreds of times a second (the Kafka client's
    "Unable connect to node" from every loop, a database error per request); a log
    flooded so is one nobody reads and a disk filled. The first lines of a burst and a
    periodic reminder say all there is to say. Only warnings and errors are limited.
    """

    def __init__(
        self,
        window_seconds: float = 10.0,
        burst: int = 5,
        clock: Callable[[], float] = time.monotonic,
        max_kinds: int = 1000,
    ) -> None:
        self.window = window_seconds
        self.burst = burst
        self.clock = clock
        self.max_kinds = max_kinds
        self._windows: dict[tuple[str, str], list[float | int]] = {}  # start, seen

    def admit(self, logger: str, kind: str) -> tuple[bool, int]:
        """Whether to write this line, and how many of its kind were held back before it."""
        now = self.clock()
        key = (logger, kind)
        window = self._windows.get(key)
        if window is None or now - window[0] >= self.window:
            held_back = max(0, int(window[1]) - self.burst) if window else 0
            if len(self._windows) >= self.max_kinds:
                self._windows.clear()
            self._windows[key] = [now, 1]
            return True, held_back
        window[1] += 1
        return int(window[1]) <= self.burst, 0


_REPEATED = "repeated_since_last"


class RepeatedLinesFilter(logging.Filter):
    """:class:`RepeatLimiter` for the libraries' lines (keyed by logger and template)."""

    def __init__(self, limiter: RepeatLimiter) -> None:
        super().__init__()
        self.limiter = limiter

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or record.levelno >= logging.CRITICAL:
            return True
        admitted, held_back = self.limiter.admit(record.name, str(record.msg))
        if held_back:
            setattr(record, _REPEATED, held_back)
        return admitted


def _limit_repeats(limiter: RepeatLimiter) -> Processor:
    """:class:`RepeatLimiter` for the platform's own lines (keyed by logger and event)."""

    def limit(
        logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if method not in ("warning", "warn", "error", "exception"):
            return event_dict
        record = event_dict.get("_record")
        if record is not None:  # a library's line: the handler's filter has judged it
            held_back = getattr(record, _REPEATED, 0)
        else:
            name = str(event_dict.get("logger", getattr(logger, "name", "")))
            admitted, held_back = limiter.admit(name, str(event_dict.get("event", "")))
            if not admitted:
                raise structlog.DropEvent
        if held_back:
            event_dict[_REPEATED] = held_back
        return event_dict

    return limit


class StandardOutputLogger:
    """Writes each rendered line to the standard output of the moment (looked up per
    line, so a test capturing it sees the lines) and flushes, as a stream handler does:
    a service's output is usually a file or a pipe, read while it runs."""

    def __init__(self, name: str = "") -> None:
        self.name = name  # structlog.stdlib.add_logger_name reads it

    def msg(self, message: str) -> None:
        stream = sys.stdout
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def configure_logging(service_name: str, level: str = "INFO", json: bool = True) -> None:
    """Route structlog and the standard library (uvicorn, alembic, aiokafka) to one JSON stream."""
    limiter = RepeatLimiter()
    shared: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _limit_repeats(limiter),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _service_and_request_id(service_name),
        redact_sensitive_values,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    format_exc_info = structlog.processors.ExceptionRenderer(format_exception_without_values)
    structlog.configure(
        processors=[*shared, format_exc_info, renderer],
        logger_factory=StandardOutputLogger,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(RepeatedLinesFilter(limiter))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log would duplicate ours and print query strings (search terms).
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> FilteringBoundLogger:
    logger: FilteringBoundLogger = structlog.get_logger(name)
    return logger
