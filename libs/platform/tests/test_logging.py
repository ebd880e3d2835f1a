"""Log lines: the platform's own and the libraries' alike are one JSON object per line on
standard output, with the service, the level and the request id, and nothing sensitive."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import structlog
from asyncpg.exceptions import UniqueViolationError
from sqlalchemy.exc import IntegrityError

from pms_platform.logging import REDACTED, RepeatLimiter, configure_logging, get_logger
from pms_platform.request_context import bound_request_id


@contextmanager
def json_logging() -> Iterator[None]:
    """Configured inside the test, while capsys captures: the standard library's handler
    keeps the stream it was given (the platform's own lines look it up per line)."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("example", "INFO", json=True)
    try:
        yield
    finally:
        structlog.reset_defaults()
        root.handlers[:], root.level = saved_handlers, saved_level


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_platform_and_library_lines_carry_service_level_and_request_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with json_logging(), bound_request_id("req-7"):
        get_logger("pms.example").warning("own line", attempt=2)
        logging.getLogger("aiokafka").warning("library line %s", "x")
    own, library = _lines(capsys)
    assert own["event"] == "own line"
    assert own["attempt"] == 2
    assert library["event"] == "library line x"
    for line, logger in ((own, "pms.example"), (library, "aiokafka")):
        assert line["service"] == "example"
        assert line["level"] == "warning"
        assert line["logger"] == logger
        assert line["request_id"] == "req-7"
        assert str(line["timestamp"]).endswith("Z")


def test_lines_below_the_level_are_not_written(capsys: pytest.CaptureFixture[str]) -> None:
    with json_logging():
        get_logger("pms.example").debug("chatter")
        logging.getLogger("aiokafka").debug("chatter")
    assert _lines(capsys) == []


def test_values_json_cannot_encode_are_written_as_text_and_secrets_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with json_logging():
        get_logger("pms.example").info("odd values", peers={1, 2}, **{"Access-Token": "t0k3n"})
    (line,) = _lines(capsys)
    assert line["peers"] == "{1, 2}"
    assert line["Access-Token"] == REDACTED


def test_an_exception_is_logged_with_its_traceback_in_the_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with json_logging():
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            get_logger("pms.example").exception("failed")
    (line,) = _lines(capsys)
    assert line["level"] == "error"
    assert "RuntimeError: boom" in str(line["exception"])


def _duplicate_email_error() -> IntegrityError:
    """What SQLAlchemy raises for a unique violation, with PostgreSQL's DETAIL quoting
    the row (as asyncpg builds it from the server's message)."""
    original = UniqueViolationError.new(
        {
            "S": "ERROR",
            "C": "23505",
            "M": 'duplicate key value violates unique constraint "uq_patients_email_lower"',
            "D": "Key (lower(email::text))=(jane.doe@example.com) already exists.",
        }
    )
    try:
        try:
            raise original
        except UniqueViolationError as error:
            raise IntegrityError("INSERT INTO patients ...", {"email": "x"}, error) from error
    except IntegrityError as wrapped:
        return wrapped


@pytest.mark.parametrize("through", ["platform", "library"])
def test_a_database_error_is_logged_without_the_values_it_quotes(
    capsys: pytest.CaptureFixture[str], through: str
) -> None:
    error = _duplicate_email_error()
    with json_logging():
        if through == "platform":
            get_logger("pms.example").error("failed", exc_info=error)
        else:
            logging.getLogger("uvicorn.error").error("Exception in ASGI app", exc_info=error)
    (line,) = _lines(capsys)
    logged = json.dumps(line)
    assert "jane.doe@example.com" not in logged
    assert "asyncpg.exceptions.UniqueViolationError (message withheld; SQLSTATE 23505)" in logged
    assert "direct cause" in logged  # the chain and its frames are still there
    assert "test_logging.py" in logged


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_repeats_of_one_kind_are_held_back_after_a_burst_and_counted_later() -> None:
    clock = FakeClock()
    limiter = RepeatLimiter(window_seconds=10, burst=3, clock=clock)
    admitted = [limiter.admit("aiokafka", "Unable connect to node %s") for _ in range(50)]
    assert admitted[:3] == [(True, 0)] * 3
    assert admitted[3:] == [(False, 0)] * 47
    assert limiter.admit("aiokafka", "Unable to update metadata") == (True, 0)  # other kind
    clock.now += 10
    assert limiter.admit("aiokafka", "Unable connect to node %s") == (True, 47)
    assert limiter.admit("aiokafka", "Unable connect to node %s") == (True, 0)


def test_library_warnings_are_limited_and_the_next_one_says_how_many_were_held_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with json_logging():
        library = logging.getLogger("aiokafka")
        for _ in range(40):
            library.error("Unable connect to node with id %s", 1)
        library.info("informational lines are never held back")
    lines = _lines(capsys)
    assert [line["event"] for line in lines].count("Unable connect to node with id 1") == 5
    assert lines[-1]["event"] == "informational lines are never held back"
