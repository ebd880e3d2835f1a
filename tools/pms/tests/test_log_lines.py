"""The readable view of the services' JSON log lines, at a terminal (``pms up``, ``pms logs``)."""

import asyncio
import io
import json
import re
import sys
from pathlib import Path

import pytest
from rich.console import Console

from pms_cli.log_lines import VIEW_SETTING, readable_line, readable_view_wanted
from pms_cli.logs import show_log
from pms_cli.service_processes import RunningService, _pump_output
from pms_cli.services import service_named

ACCESS = {
    "method": "POST",
    "path": "/login",
    "status": 200,
    "duration_ms": 648.71,
    "event": "request",
    "level": "info",
    "logger": "pms.access",
    "timestamp": "2026-12-02T16:20:06.084728Z",
    "service": "auth",
    "request_id": "2486ac7561d24b4d94ac0a786566fcb6",
}
GROUP_JOIN = {
    "event": "Joined group 'analytics-service' (generation 3)",
    "level": "info",
    "logger": "aiokafka.consumer.group_coordinator",
    "timestamp": "2026-12-02T16:20:07.000000Z",
    "service": "analytics",
}


def _plain(raw: str, service: str = "auth") -> str | None:
    line = readable_line(raw, service, "cyan")
    return None if line is None else line.plain


def test_a_json_line_becomes_time_service_level_message_and_its_fields() -> None:
    shown = _plain(json.dumps(ACCESS))
    assert shown == (
        "16:20:06  auth       INFO  request  method=POST path=/login status=200 duration_ms=648.71"
    )


def test_a_librarys_info_chatter_is_left_out_but_its_warnings_are_shown() -> None:
    assert _plain(json.dumps(GROUP_JOIN), "analytics") is None
    warning = {**GROUP_JOIN, "level": "warning", "event": "Heartbeat failed"}
    assert _plain(json.dumps(warning), "analytics") == (
        "16:20:07  analytics  WARNING Heartbeat failed"
    )


def test_an_exception_follows_its_line_and_values_with_spaces_are_quoted() -> None:
    error = {
        "event": "unhandled error",
        "level": "error",
        "logger": "pms.errors",
        "timestamp": "2026-12-02T16:21:00.5Z",
        "service": "patients",
        "route": "GET /patients",
        "exception": "Traceback (most recent call last):\n  ...\nRuntimeError\n",
    }
    shown = _plain(json.dumps(error), "patients")
    assert shown is not None
    first, *rest = shown.split("\n")
    assert first == '16:21:00  patients   ERROR unhandled error  route="GET /patients"'
    assert rest[-1] == "RuntimeError"


def test_a_line_that_is_not_json_is_shown_as_it_is() -> None:
    assert _plain("Traceback (most recent call last):") == (
        "auth       Traceback (most recent call last):"
    )


def test_the_readable_view_is_only_for_terminals_and_can_be_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(VIEW_SETTING, raising=False)
    assert readable_view_wanted(is_terminal=True)
    assert not readable_view_wanted(is_terminal=False)
    monkeypatch.setenv(VIEW_SETTING, "json")
    assert not readable_view_wanted(is_terminal=True)


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=200), out


def _shown_lines(out: io.StringIO) -> list[str]:
    """What the terminal shows, without its colour codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue()).splitlines()


@pytest.mark.parametrize("terminal", [True, False])
def test_pms_logs_shows_readable_lines_at_a_terminal_and_json_elsewhere(
    tmp_path: Path, terminal: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(VIEW_SETTING, raising=False)
    log = tmp_path / "auth.log"
    log.write_text(json.dumps(ACCESS) + "\n" + json.dumps(GROUP_JOIN) + "\n")
    console, out = _console(terminal)
    show_log(console, log, follow=False, lines=50)
    lines = _shown_lines(out)
    if terminal:
        assert lines == [
            "16:20:06  auth       INFO  request  method=POST path=/login status=200 "
            "duration_ms=648.71"
        ]
    else:
        assert [json.loads(line) for line in lines] == [ACCESS, GROUP_JOIN]


async def test_pms_up_echoes_readable_lines_and_keeps_the_json_in_the_log_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(VIEW_SETTING, raising=False)
    lines = [json.dumps(ACCESS), json.dumps(GROUP_JOIN)]
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        f"print({chr(10).join(lines)!r})",
        stdout=asyncio.subprocess.PIPE,
    )
    console, out = _console(terminal=True)
    log_path = tmp_path / "auth.log"
    with log_path.open("w", encoding="utf-8") as log_file:
        await _pump_output(
            RunningService(service_named("auth"), child, "cyan"), console, log_file, True
        )
    await child.wait()
    assert _shown_lines(out) == [
        "16:20:06  auth       INFO  request  method=POST path=/login status=200 duration_ms=648.71"
    ]
    assert log_path.read_text().splitlines() == lines


async def test_pms_up_echoes_each_json_line_as_it_is_after_the_name_when_not_at_a_terminal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(VIEW_SETTING, raising=False)
    lines = [json.dumps(ACCESS), "not json [bold]kept[/bold] as it is"]
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        f"print({chr(10).join(lines)!r})",
        stdout=asyncio.subprocess.PIPE,
    )
    console, out = _console(terminal=False)
    with (tmp_path / "auth.log").open("w", encoding="utf-8") as log_file:
        await _pump_output(
            RunningService(service_named("auth"), child, "cyan"), console, log_file, True
        )
    await child.wait()
    assert out.getvalue().splitlines() == [f"     auth | {line}" for line in lines]
