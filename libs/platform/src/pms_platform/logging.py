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
import traceback
from collections.abc import MutableMapping
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
    shared: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log would duplicate ours and print query strings (search terms).
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> FilteringBoundLogger:
    logger: FilteringBoundLogger = structlog.get_logger(name)
    return logger
