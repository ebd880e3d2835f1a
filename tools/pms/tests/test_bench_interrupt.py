"""Ctrl-C (SIGINT) or SIGTERM during ``pms bench`` stops the platform the bench started:
a real run in a subprocess, on the running PostgreSQL and Kafka, signalled once its
services are up; afterwards no service process and no platform port is left.

It starts the five services on the platform's ports: run it alone
(``flock /tmp/pms-platform.lock``), as the end-to-end tests are."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from pms_cli.bench.platform_control import BenchPlatform
from pms_cli.bench.procs import pids_listening, ports_listening

pytestmark = pytest.mark.integration

PMS = Path(sys.executable).with_name("pms")
UP_LIMIT_SECONDS = 300.0  # bounds only: a run that never gets there fails, not hangs
STOP_LIMIT_SECONDS = 120.0
LOAD_STARTED = "scenario login"


class BenchProcess:
    """``pms bench`` in a subprocess, its standard error collected line by line."""

    def __init__(self, out: Path) -> None:
        self.process = subprocess.Popen(  # the launcher of this workspace
            [
                str(PMS),
                "bench",
                "--quick",
                "--scenarios",
                "login",
                "--seconds",
                "60",
                "--min-patients",
                "0",
                "--no-install-oha",
                "--out",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own group, as a command typed in a terminal
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + UP_LIMIT_SECONDS
        while not ready():
            assert self.process.poll() is None, f"bench exited before {what}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {what}:\n{self.output}"
            time.sleep(0.2)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.reader.join(10)
        if self.process.stderr is not None:
            self.process.stderr.close()

    def stop_with(self, signum: int, *, whole_group: bool) -> int:
        """``whole_group``: as the terminal's Ctrl-C, to the bench and its wrk alike;
        otherwise to the bench alone, as ``kill`` does."""
        if whole_group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        code = self.process.wait(STOP_LIMIT_SECONDS)
        self.reader.join(10)
        return code


def _platform() -> BenchPlatform:
    """The platform the bench would start here (its ports follow ``PMS_PORT_OFFSET``, as
    under ``pms test``)."""
    return BenchPlatform(Console(quiet=True))


def _gateway_ready() -> bool:
    try:
        answer = httpx.get(_platform().gateway_url + "/health/ready", timeout=2.0)
    except httpx.TransportError:
        return False
    return answer.status_code == 200


def _in_session(session: int) -> list[int]:
    """Live processes of a session (the bench's: its wrk, its migrations)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize(
    ("signum", "when"),
    [(signal.SIGINT, "during the load"), (signal.SIGTERM, "as soon as the gateway is ready")],
)
def test_a_signal_stops_the_platform_the_bench_started_and_exits_non_zero(
    signum: signal.Signals, when: str, tmp_path: Path
) -> None:
    """Ctrl-C (SIGINT to the whole group) while wrk is loading; SIGTERM to the bench alone
    while it still prepares."""
    ports = list(_platform().ports.all_ports)
    assert not ports_listening(ports), "the platform's ports must be free (run it alone)"
    bench = BenchProcess(tmp_path)
    try:
        if when == "during the load":
            bench.wait_for(lambda: LOAD_STARTED in bench.output, "load")
        else:
            bench.wait_for(_gateway_ready, "ready gateway")
        services = [pid for pids in pids_listening(ports).values() for pid in pids]
        assert services, bench.output
        code = bench.stop_with(signum, whole_group=signum == signal.SIGINT)
    finally:
        bench.close()
    assert code == 128 + signum, bench.output
    assert f"bench interrupted by {signum.name}" in bench.lines[-1], bench.output
    assert not ports_listening(ports), bench.output
    assert not [pid for pid in services if _alive(pid)], bench.output
    assert not _in_session(bench.process.pid), bench.output
    assert not (tmp_path / "latest.json").exists()
