"""The hardening proof of the container run, against a fake podman that answers as the
probe inside a hardened container (or one missing one property) would."""

import json
from pathlib import Path
from typing import Any

import pytest

from pms_cli.containers.engine import EngineError, Result
from pms_cli.containers.hardening import PROBE, probe_argv, verify_hardening
from pms_cli.containers.plan import ImageBuild, ServicePlan
from pms_cli.containers.run import ContainersTest, Options
from pms_cli.containers.stack import Stack

from .podman_fake import FakePodman

ZERO = "0000000000000000"
DEFAULT_CAPS = "00000000a80425fb"
IDS = "10001\t10001\t10001\t10001"


def status(**changes: str) -> dict[str, str]:
    hardened = {"Uid": IDS, "Gid": IDS, "Groups": "10001", "NoNewPrivs": "1"}
    hardened |= dict.fromkeys(("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), ZERO)
    return hardened | changes


def report(
    *, self_status: dict[str, str] | None = None, service: dict[str, str] | None = None
) -> dict[str, Any]:
    """What the probe prints in a hardened container (init, then the service)."""
    return {
        "self": self_status or status(Groups=""),
        "processes": [
            {"pid": 1, "cmd": "/run/podman-init -- python -m pms_auth serve", "status": status()},
            {"pid": 2, "cmd": "python -m pms_auth serve", "status": service or status()},
        ],
        "root_read_only": True,
        "creates": {"/probe": "EROFS", "/app/probe": "EROFS"},
        "tmp": "written",
        "tmp_fs": "tmpfs",
    }


def printed(probe_report: dict[str, Any]) -> Result:
    return Result(0, json.dumps(probe_report) + "\n", "")


def problems_of(probe_report: dict[str, Any] | Result) -> list[str]:
    answer = probe_report if isinstance(probe_report, Result) else printed(probe_report)
    return verify_hardening(FakePodman({"podman exec pms_auth_1": [answer]}), ["pms_auth_1"])


def test_a_hardened_container_has_no_problem_and_takes_one_exec() -> None:
    podman = FakePodman({f"podman exec {name}": [printed(report())] for name in ("a_1", "b_1")})

    assert verify_hardening(podman, ["a_1", "b_1"]) == []
    assert podman.calls == [probe_argv("a_1"), probe_argv("b_1")]
    assert podman.calls[0][:6] == ["podman", "exec", "a_1", "python", "-c", PROBE]


def test_a_service_running_as_root_is_reported() -> None:
    root = status(Uid="0\t0\t0\t0", Gid="0\t0\t0\t0", Groups="0")

    assert problems_of(report(service=root)) == [
        "pms_auth_1: pid 2 (python -m pms_auth serve) runs with uid 0/0/0/0 (root), not 10001",
        "pms_auth_1: pid 2 (python -m pms_auth serve) runs with gid 0/0/0/0 (root), not 10001",
        "pms_auth_1: pid 2 (python -m pms_auth serve) is in the supplementary group 0 (root)",
    ]


def test_a_writable_root_filesystem_is_reported() -> None:
    writable = report()
    writable |= {"root_read_only": False, "creates": {"/probe": "EACCES", "/app/probe": "written"}}

    assert problems_of(writable) == [
        "pms_auth_1: the root filesystem is not mounted read-only",
        "pms_auth_1: creating /probe failed with EACCES, not EROFS (read-only)",
        "pms_auth_1: creating /app/probe succeeded: the root filesystem is writable",
    ]


def test_a_tmp_that_cannot_be_written_is_reported() -> None:
    no_tmp = report() | {"tmp": "EROFS", "tmp_fs": "overlay"}

    assert problems_of(no_tmp) == [
        "pms_auth_1: writing under /tmp failed: EROFS",
        "pms_auth_1: the /tmp directory is overlay, not a tmpfs",
    ]


def test_a_capability_left_is_reported_for_the_process_that_has_it() -> None:
    capable = status(CapPrm="0000000000000400", CapEff="0000000000000400", CapBnd=DEFAULT_CAPS)

    assert problems_of(report(service=capable)) == [
        "pms_auth_1: pid 2 (python -m pms_auth serve) has capabilities: CapPrm 0000000000000400,"
        f" CapEff 0000000000000400, CapBnd {DEFAULT_CAPS}"
    ]


def test_no_new_privileges_off_is_reported() -> None:
    assert problems_of(report(self_status=status(NoNewPrivs="0"))) == [
        "pms_auth_1: the exec'd probe has NoNewPrivs 0, not 1 (no-new-privileges is off)"
    ]


def test_a_failing_exec_is_reported_in_its_own_words() -> None:
    failed = Result(125, "", "Error: can only create exec sessions on running containers")

    assert problems_of(failed) == [
        "pms_auth_1: the hardening probe failed: "
        "Error: can only create exec sessions on running containers"
    ]


def test_output_that_is_not_the_report_is_reported() -> None:
    assert problems_of(Result(0, "Traceback\nNameError: x\n", "")) == [
        "pms_auth_1: the hardening probe printed no report (NameError: x)"
    ]


def test_a_container_without_its_service_process_is_reported() -> None:
    idle = report()
    idle["processes"] = [{"pid": 1, "cmd": "sleep 300", "status": status()}]

    assert problems_of(idle) == [
        "pms_auth_1: the probe saw no python process (the service) to check"
    ]
    podman = FakePodman({"podman exec pms_auth_1": [printed(idle)]})
    assert verify_hardening(podman, ["pms_auth_1"], service_process=None) == []


def test_the_run_checks_the_five_services_and_fails_on_a_problem() -> None:
    image = ImageBuild("pms-auth:dev", "deploy/docker/Dockerfile", {}, None)
    plans = {
        "postgres": ServicePlan("postgres", one_shot=False, health=None, build=None),
        "auth-migrate": ServicePlan("auth-migrate", one_shot=True, health=None, build=image),
        "auth": ServicePlan("auth", one_shot=False, health=None, build=image),
        "gateway": ServicePlan("gateway", one_shot=False, health=None, build=image),
    }
    podman = FakePodman(
        {f"podman exec {name}": [printed(report())] for name in ("p_auth_1", "p_gateway_1")}
    )
    lines: list[str] = []
    test = ContainersTest(Options(root=Path(".")), podman, lines.append)
    stack = Stack(podman, "p", [], plans, lines.append)

    test.check_hardening(stack, plans)

    assert [call[2] for call in podman.calls] == ["p_auth_1", "p_gateway_1"]
    assert lines == [
        "hardening verified in 2 containers: "
        "uid 10001, read-only root, no capabilities, no-new-privileges"
    ]
    podman.answers["podman exec p_gateway_1"] = [
        printed(report(self_status=status(NoNewPrivs="0")))
    ]
    with pytest.raises(EngineError) as raised:
        test.check_hardening(stack, plans)
    assert str(raised.value) == (
        "hardening not in force: p_gateway_1: the exec'd probe has NoNewPrivs 0, not 1"
        " (no-new-privileges is off)"
    )
