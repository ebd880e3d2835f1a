"""The container run's stack and base images, against a fake podman (no engine needed)."""

from pathlib import Path

import pytest

from pms_cli.containers.bases import BaseImages, debian_mirror, digest, slim_rootfs, uv_version
from pms_cli.containers.engine import EngineError, Result, containers_conf_text
from pms_cli.containers.plan import HealthCheck, ImageBuild, ServicePlan
from pms_cli.containers.run import Options, build_argv, stack_environ
from pms_cli.containers.stack import Stack

from .podman_fake import FakePodman

HEALTH = HealthCheck(argv=("check",), interval=1.0, timeout=1.0, retries=2, start_period=0.0)
PLANS = {
    "db": ServicePlan("db", one_shot=False, health=HEALTH, build=None),
    "migrate": ServicePlan("migrate", True, None, None, depends_on=("db",)),
    "app": ServicePlan("app", False, HEALTH, None, depends_on=("migrate",)),
}


def _stack(podman: FakePodman) -> tuple[Stack, list[float]]:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    stack = Stack(podman, "proj", [Path("c.yaml")], PLANS, lambda _: None, lambda: now[0], sleep)
    return stack, now


def test_stages_start_in_order_each_after_the_last_is_ready() -> None:
    podman = FakePodman({"podman wait": [Result(0, "0\n", "")]})
    stack, _ = _stack(podman)

    stack.up()

    starts = [call[2:] for call in podman.calls if call[:2] == ["podman", "start"]]
    assert starts == [["proj_db_1"], ["proj_migrate_1"], ["proj_app_1"]]
    assert podman.calls[0][:4] == ["podman-compose", "--project-name", "proj", "-f"]
    assert ["podman", "exec", "proj_db_1", "check"] in podman.calls


def test_a_one_shot_that_fails_stops_the_start_with_its_exit_code() -> None:
    podman = FakePodman({"podman wait": [Result(0, "3\n", "")]})
    stack, _ = _stack(podman)

    with pytest.raises(EngineError, match="migrate exited with 3"):
        stack.up()
    assert ["podman", "logs", "--tail", "40", "proj_migrate_1"] in podman.calls


def test_a_service_never_healthy_fails_after_its_deadline() -> None:
    podman = FakePodman({"podman exec": [Result(1, "", "refused")]})
    stack, now = _stack(podman)

    with pytest.raises(EngineError, match=r"db not healthy within 4 s \(refused\)"):
        stack.wait_healthy("db", HEALTH)
    assert now[0] >= HEALTH.deadline_seconds


def test_a_service_that_exits_fails_at_once() -> None:
    podman = FakePodman(
        {"podman exec": [Result(1, "", "no")], "podman inspect": [Result(0, "exited\n", "")]}
    )
    stack, now = _stack(podman)

    with pytest.raises(EngineError, match="stopped before it was healthy"):
        stack.wait_healthy("db", HEALTH)
    assert now[0] == 0.0


def test_teardown_removes_what_compose_down_left_and_reports_the_rest() -> None:
    podman = FakePodman(
        {
            "podman ps": [Result(0, "proj_db_1\n", ""), Result(0, "", "")],
            "podman volume": [Result(0, "proj_data\n", ""), Result(0, "", ""), Result(0, "", "")],
            "podman network": [Result(0, "podman\nproj_default\n", ""), Result(0, "", ""),
                               Result(0, "podman\n", "")],
        }
    )  # fmt: skip
    stack, _ = _stack(podman)

    assert stack.down() == []
    assert podman.calls[0][-4:] == ["down", "--volumes", "--timeout", "10"]
    assert ["podman", "rm", "--force", "--time", "5", "proj_db_1"] in podman.calls
    assert ["podman", "volume", "rm", "--force", "proj_data"] in podman.calls
    assert ["podman", "network", "rm", "--force", "proj_default"] in podman.calls


def test_every_started_container_leaves_its_whole_log_in_the_directory(tmp_path: Path) -> None:
    podman = FakePodman(
        {
            "podman logs proj_db_1": [Result(0, "db ready\n", "")],
            "podman logs proj_app_1": [Result(0, "app out\n", "app ReadTimeout\n")],
        }
    )
    stack, _ = _stack(podman)
    stack.started = ["db", "app"]

    saved = stack.save_logs(tmp_path / "logs")

    assert saved == [tmp_path / "logs" / "db.log", tmp_path / "logs" / "app.log"]
    assert (tmp_path / "logs" / "app.log").read_text() == "app out\napp ReadTimeout\n"
    assert (tmp_path / "logs" / "db.log").read_text() == "db ready\n"


def test_the_build_takes_the_local_bases_and_the_gateway_its_target() -> None:
    bases = BaseImages("deb", "uv:1", "py:1", "py-build:1", "pg:1", "kafka:1")
    build = ImageBuild(
        "pms-gateway:dev", "deploy/docker/Dockerfile", {"SERVICE": "gateway"}, "gateway"
    )

    argv = build_argv(build, Path("/repo"), bases)

    assert "PYTHON_IMAGE=py:1" in argv
    assert "PYTHON_BUILD_IMAGE=py-build:1" in argv
    assert "UV_IMAGE=uv:1" in argv
    assert argv[argv.index("--target") + 1] == "gateway"
    assert argv[-3:] == ["--tag", "pms-gateway:dev", "/repo"]


def test_the_stack_gets_the_local_images_and_ports_clear_of_other_runs() -> None:
    env = stack_environ(Options(Path("/repo")), BaseImages("d", "u", "p", "pb", "pg:1", "k:1"))

    assert env["PMS_POSTGRES_IMAGE"] == "pg:1"
    assert env["PMS_KAFKA_IMAGE"] == "k:1"
    assert env["PMS_GATEWAY_PUBLISHED_PORT"] == "24004"
    assert env["PMS_CONTAINERS_AUTH_PORT"] == "24005"


def test_base_image_tags_follow_their_recipe() -> None:
    assert digest(["a", "b"]) != digest(["ab"])
    assert len(digest([b"x"])) == 16
    assert uv_version("ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9\n") == "0.13.9"
    with pytest.raises(EngineError):
        uv_version("FROM python\n")


def test_the_debian_mirror_is_the_one_apt_uses() -> None:
    deb822 = "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
    one_line = "deb [arch=amd64] http://other.example/debian bookworm main\n"

    assert debian_mirror([deb822]) == "http://mirror.example/debian"
    assert debian_mirror([one_line]) == "http://other.example/debian"
    assert debian_mirror(["deb https://packages.example/apt cloud main\n"]).startswith(
        "http://deb."
    )


def test_the_root_filesystem_is_slimmed_as_debians_slim_images(tmp_path: Path) -> None:
    for name in ("usr/share/doc/bash/copyright", "usr/share/doc/bash/README", "usr/share/man/x.1",
                 "var/lib/apt/lists/Packages", "usr/bin/bash"):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")

    slim_rootfs(tmp_path)

    assert (tmp_path / "usr/share/doc/bash/copyright").exists()
    assert not (tmp_path / "usr/share/doc/bash/README").exists()
    assert not (tmp_path / "usr/share/man/x.1").exists()
    assert not (tmp_path / "var/lib/apt/lists/Packages").exists()
    assert (tmp_path / "var/lib/apt/lists").is_dir()
    assert (tmp_path / "usr/bin/bash").exists()
    assert (
        "path-exclude /usr/share/doc/*"
        in (tmp_path / "etc/dpkg/dpkg.cfg.d/01-pms-slim").read_text()
    )


def test_the_engine_settings_are_the_ones_this_machine_needs() -> None:
    text = containers_conf_text("/usr/bin/catatonit")

    assert 'runtime = "runc"' in text
    assert 'cgroup_manager = "cgroupfs"' in text
    assert '"nofile=1024:1024", "nproc=1024:1024"' in text
    assert 'init_path = "/usr/bin/catatonit"' in text
