"""The platform a bench run starts: a ``Platform`` of the chosen ports that, stopping,
leaves alone what is not its own."""

from pathlib import Path

from rich.console import Console

from pms_cli.bench.platform_control import BenchPlatform
from pms_cli.infra.settings import PORT_OFFSET_VARIABLE, STATE_DIR_VARIABLE
from pms_cli.platform import UP_PID_FILE


async def test_stopping_after_a_failed_start_keeps_the_up_pid_of_a_pms_up(tmp_path: Path) -> None:
    # The ports were taken by a `pms up` starting: its up.pid must survive the bench's stop.
    (tmp_path / UP_PID_FILE).write_text("4242")
    platform = BenchPlatform(Console(quiet=True), environ={STATE_DIR_VARIABLE: str(tmp_path)})
    await platform.stop()
    assert (tmp_path / UP_PID_FILE).read_text() == "4242"


def test_its_ports_follow_the_port_offset() -> None:
    platform = BenchPlatform(Console(quiet=True), environ={PORT_OFFSET_VARIABLE: "100"})
    assert platform.gateway_url == "http://127.0.0.1:4104"
    assert {spec.name: spec.http_port for spec in platform.specs}["patients"] == 4100
