"""How a containers run fails: no engine, an engine that cannot start a container, and an
interruption during the suite (the stack is torn down all the same)."""

import signal
from pathlib import Path

import pytest

from pms_cli.containers.engine import EngineError, Result
from pms_cli.containers.run import (
    ContainersTest,
    Interrupted,
    Options,
    containers_test,
    signals_raise,
)

from .podman_fake import FakePodman


def test_a_machine_without_podman_is_told_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to run here: no podman, no runc
    lines: list[str] = []

    code = containers_test(Options(tmp_path), lines.append)

    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith("containers-test: no container engine here (podman, ")
    assert "apt-get install podman" in lines[0]


def test_an_engine_that_cannot_start_a_container_fails_with_its_reason(tmp_path: Path) -> None:
    crun = Result(126, "", "Error: OCI runtime error: crun: cgroups in hybrid mode\n")
    podman = FakePodman({"podman run": [crun]})  # as crun does on this kind of machine
    test = ContainersTest(Options(tmp_path), podman, lambda _: None)

    with pytest.raises(EngineError) as failed:
        test.check_engine("localhost/pms-base-debian:1")

    assert str(failed.value) == (
        "the container engine cannot start a container: "
        "Error: OCI runtime error: crun: cgroups in hybrid mode"
    )


def test_an_interruption_raises_once_so_the_teardown_it_starts_is_not_broken_off() -> None:
    with signals_raise():
        with pytest.raises(Interrupted):
            signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGTERM)  # a second signal, during the teardown: ignored
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
