"""Containers run exactly the launcher's commands: ``python -m pms_<name> serve|migrate``.

The launcher's table (``pms_cli.services``) is the source of truth; the Compose file and
the rendered Kubernetes manifests of every kustomization must agree with it.
"""

import re
from typing import Any

import pytest

from pms_cli.deploy_check import (
    KUSTOMIZATIONS,
    container_command,
    load_compose,
    rendered,
    repo_root,
)
from pms_cli.services import SERVICES, ServiceSpec

DATABASE_SERVICES = [spec for spec in SERVICES if spec.database is not None]


def _ids(specs: list[ServiceSpec]) -> list[str]:
    return [spec.name for spec in specs]


def _only(manifests: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _single_container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def test_container_command_is_the_launchers_with_python_as_interpreter() -> None:
    spec = SERVICES[0]

    assert container_command(spec, "serve") == ["python", "-m", spec.module, "serve"]
    assert container_command(spec, "migrate")[1:] == spec.command("migrate")[1:]


@pytest.mark.parametrize("spec", SERVICES, ids=_ids(list(SERVICES)))
def test_compose_serves_each_service_with_the_launchers_command(spec: ServiceSpec) -> None:
    service = load_compose()["services"][spec.name]

    assert service["command"] == container_command(spec, "serve")
    assert "entrypoint" not in service


@pytest.mark.parametrize("spec", DATABASE_SERVICES, ids=_ids(DATABASE_SERVICES))
def test_compose_migrates_each_database_with_the_launchers_command(spec: ServiceSpec) -> None:
    services = load_compose()["services"]
    migration = services[f"{spec.name}-migrate"]

    assert migration["command"] == container_command(spec, "migrate")
    assert "entrypoint" not in migration
    # The same image as the service it migrates.
    assert migration["image"] == services[spec.name]["image"]
    assert migration["build"] == services[spec.name]["build"]


def test_compose_runs_no_other_command_of_ours() -> None:
    expected = {spec.name: container_command(spec, "serve") for spec in SERVICES}
    expected |= {f"{s.name}-migrate": container_command(s, "migrate") for s in DATABASE_SERVICES}
    ours = {
        name: service.get("command")
        for name, service in load_compose()["services"].items()
        if str(service.get("image", "")).startswith("pms-")
    }

    assert ours == expected


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
@pytest.mark.parametrize("spec", SERVICES, ids=_ids(list(SERVICES)))
def test_kubernetes_deployment_serves_with_the_launchers_command(
    kustomization: str, spec: ServiceSpec
) -> None:
    deployment = _only(rendered(kustomization), "Deployment", spec.name)
    container = _single_container(deployment)

    assert container["command"] == container_command(spec, "serve")
    assert "args" not in container
    assert re.search(rf"(^|/)pms-{spec.name}(:|@|$)", container["image"])


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
@pytest.mark.parametrize("spec", DATABASE_SERVICES, ids=_ids(DATABASE_SERVICES))
def test_kubernetes_job_migrates_with_the_launchers_command(
    kustomization: str, spec: ServiceSpec
) -> None:
    manifests = rendered(kustomization)
    job = _only(manifests, "Job", f"{spec.name}-migrate")
    container = _single_container(job)
    deployment_image = _single_container(_only(manifests, "Deployment", spec.name))["image"]

    assert container["command"] == container_command(spec, "migrate")
    assert "args" not in container
    assert container["image"] == deployment_image


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_kubernetes_runs_no_other_workload_of_ours(kustomization: str) -> None:
    commands = {
        (m["kind"], m["metadata"]["name"]): _single_container(m)["command"]
        for m in rendered(kustomization)
        if m["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet", "CronJob"}
    }
    expected = {("Deployment", s.name): container_command(s, "serve") for s in SERVICES}
    expected |= {
        ("Job", f"{s.name}-migrate"): container_command(s, "migrate") for s in DATABASE_SERVICES
    }

    assert commands == expected


def test_the_images_default_command_serves_the_images_service() -> None:
    dockerfile = (repo_root() / "deploy/docker/Dockerfile").read_text(encoding="utf-8")
    cmd = [line for line in dockerfile.splitlines() if line.startswith("CMD ")]

    assert cmd == ['CMD ["sh", "-c", "exec python -m \\"pms_${PMS_IMAGE_SERVICE}\\" serve"]']
    assert "PMS_IMAGE_SERVICE=${SERVICE}" in dockerfile
    assert "ENTRYPOINT" not in dockerfile
