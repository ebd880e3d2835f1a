"""The container run's reading of deploy/compose.yaml: stages, health checks, builds."""

from typing import Any

import pytest

from pms_cli.containers.plan import (
    container_name,
    duration_seconds,
    health_argv,
    image_builds,
    service_plans,
    start_stages,
)
from pms_cli.deploy_check import load_compose


def test_durations_are_read_as_compose_writes_them() -> None:
    assert duration_seconds("5s", 0) == 5.0
    assert duration_seconds("1m30s", 0) == 90.0
    assert duration_seconds("500ms", 0) == 0.5
    assert duration_seconds(None, 7.0) == 7.0
    with pytest.raises(ValueError, match="duration"):
        duration_seconds("5 parsecs", 0)


def test_health_check_commands_of_each_form() -> None:
    assert health_argv(["CMD", "pg_isready", "-q"]) == ("pg_isready", "-q")
    assert health_argv(["CMD-SHELL", "curl -f x || exit 1"]) == (
        "/bin/sh",
        "-c",
        "curl -f x || exit 1",
    )
    assert health_argv("true") == ("/bin/sh", "-c", "true")
    assert health_argv(["NONE"]) is None


def test_the_compose_files_services_start_in_their_dependency_order() -> None:
    stages = start_stages(service_plans(load_compose()))

    assert stages[0] == ["kafka", "postgres"]
    assert set(stages[1]) == {
        "kafka-topics", "auth-migrate", "patients-migrate", "billing-migrate", "analytics-migrate"
    }  # fmt: skip
    assert stages[2] == ["analytics", "auth", "billing"]
    assert stages[3:] == [["patients"], ["gateway"]]


def test_one_shots_are_waited_for_and_servers_health_checked() -> None:
    plans = service_plans(load_compose())

    assert plans["auth-migrate"].one_shot
    assert plans["auth-migrate"].health is None
    assert plans["kafka-topics"].one_shot
    gateway = plans["gateway"]
    assert not gateway.one_shot
    assert gateway.health is not None
    assert gateway.health.argv[:2] == ("python", "-c")
    assert gateway.health.deadline_seconds == 60 + 5 * (5 + 3)


def test_each_image_is_built_once_and_the_gateway_with_the_console() -> None:
    builds = {build.image: build for build in image_builds(service_plans(load_compose()))}

    assert sorted(builds) == sorted(
        f"pms-{name}:dev" for name in ("gateway", "auth", "patients", "billing", "analytics")
    )
    assert builds["pms-gateway:dev"].target == "gateway"
    assert builds["pms-auth:dev"].target is None
    assert builds["pms-billing:dev"].args == {"SERVICE": "billing", "HTTP_PORT": "4001"}


def test_a_cycle_is_refused() -> None:
    compose: dict[str, Any] = {
        "services": {"a": {"depends_on": {"b": {}}}, "b": {"depends_on": {"a": {}}}}
    }

    with pytest.raises(ValueError, match="cycle"):
        start_stages(service_plans(compose))


def test_container_names_are_podman_composes() -> None:
    assert container_name("pms-ct", "auth") == "pms-ct_auth_1"
