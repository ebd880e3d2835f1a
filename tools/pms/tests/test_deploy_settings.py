"""The settings that Compose and Kubernetes give each service are ones it reads, and
they make it start: listening on all interfaces, on its port, in the intended mode.

Settings ignore unknown variables, so a mistyped name would otherwise pass unnoticed.
"""

import base64
import importlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from pms_cli.deploy_check import load_compose, rendered
from pms_cli.services import SERVICES, ServiceSpec
from pms_platform.settings import ServiceSettings

# What an operator puts in the Secrets of production (anything but development values).
PRODUCTION_SECRET_PLACEHOLDER = {
    "database-url": "postgresql+asyncpg://{name}:S3cret-from-the-operator@db:5432/pms_{name}",
    "seed-admin-password": "an-operator-chosen-passphrase",
}


def _ids(specs: tuple[ServiceSpec, ...]) -> list[str]:
    return [spec.name for spec in specs]


def settings_class(spec: ServiceSpec) -> type[ServiceSettings]:
    """The settings class of ``spec``: the one in its settings module with its prefix."""
    module = importlib.import_module(f"{spec.module}.settings")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, ServiceSettings)
            and value.model_config.get("env_prefix") == spec.env_prefix
        ):
            return value
    raise AssertionError(f"no settings class with prefix {spec.env_prefix} in {module}")


def setting_names(spec: ServiceSpec) -> set[str]:
    cls: type[BaseSettings] = settings_class(spec)
    return {spec.env_prefix + name.upper() for name in cls.model_fields}


def _spec_for(variable: str) -> ServiceSpec | None:
    for spec in SERVICES:
        if variable.startswith(spec.env_prefix):
            return spec
    return None


def _settings_from(
    spec: ServiceSpec, environment: Mapping[str, str], monkeypatch: pytest.MonkeyPatch
) -> ServiceSettings:
    for name in list(os.environ):
        if name.startswith(spec.env_prefix):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return settings_class(spec)()


# ------------------------------------------------------------------------- Compose


def _compose_environment(spec: ServiceSpec, service: str | None = None) -> dict[str, str]:
    environment = load_compose()["services"][service or spec.name].get("environment", {})
    assert isinstance(environment, dict), "write environment as a mapping"
    return {str(name): str(value) for name, value in environment.items()}


def test_compose_sets_only_settings_that_exist() -> None:
    unknown = []
    for name, service in load_compose()["services"].items():
        for variable in service.get("environment", {}) or {}:
            spec = _spec_for(variable)
            if spec is None:
                continue
            if variable not in setting_names(spec):
                unknown.append(f"{name}: {variable}")

    assert unknown == []


@pytest.mark.parametrize("spec", SERVICES, ids=_ids(SERVICES))
def test_compose_settings_start_each_service_in_development_on_all_interfaces(
    spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = _compose_environment(spec)

    settings = _settings_from(spec, environment, monkeypatch)

    assert settings.environment.value == "development"
    assert settings.http_host == "0.0.0.0"  # noqa: S104 - a container must listen outside
    assert settings.http_port == spec.http_port
    assert all(name.startswith(spec.env_prefix) for name in environment)


@pytest.mark.parametrize("spec", [s for s in SERVICES if s.database], ids=lambda s: s.name)
def test_compose_points_each_service_and_its_migration_at_its_own_database(
    spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    for service in (spec.name, f"{spec.name}-migrate"):
        settings = _settings_from(spec, _compose_environment(spec, service), monkeypatch)
        url = getattr(settings, "database_url", "")

        assert url.endswith(f"@postgres:5432/{spec.database}"), service


@pytest.mark.parametrize("spec", [s for s in SERVICES if s.uses_kafka], ids=lambda s: s.name)
def test_compose_points_kafka_users_at_the_broker(spec: ServiceSpec) -> None:
    environment = _compose_environment(spec)

    assert environment[f"{spec.env_prefix}KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


# ------------------------------------------------------------------------- Kubernetes


def _secret_values(manifests: tuple[dict[str, Any], ...]) -> dict[str, dict[str, str]]:
    values: dict[str, dict[str, str]] = {}
    for manifest in manifests:
        if manifest["kind"] == "Secret":
            data = manifest.get("data", {})
            values[manifest["metadata"]["name"]] = {
                key: base64.b64decode(value).decode() for key, value in data.items()
            }
    return values


def container_environment(
    manifests: tuple[dict[str, Any], ...], workload: dict[str, Any], spec: ServiceSpec
) -> dict[str, str]:
    """What the container sees: its ConfigMaps, then its own ``env`` (which wins).

    Secrets come from the rendered Secret when the kustomization generates it, else from
    placeholders standing for what the operator creates.
    """
    config_maps = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "ConfigMap"}
    secrets = _secret_values(manifests)
    container = workload["spec"]["template"]["spec"]["containers"][0]
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        config_map = config_maps[source["configMapRef"]["name"]]
        environment.update(config_map.get("data", {}))
    for variable in container.get("env", []):
        if "value" in variable:
            environment[variable["name"]] = variable["value"]
            continue
        reference = variable["valueFrom"]["secretKeyRef"]
        if reference["name"] in secrets:
            environment[variable["name"]] = secrets[reference["name"]][reference["key"]]
        else:
            placeholder = PRODUCTION_SECRET_PLACEHOLDER[reference["key"]]
            environment[variable["name"]] = placeholder.format(name=spec.name)
    return environment


def _workloads(
    kustomization: str,
) -> Iterator[tuple[tuple[dict[str, Any], ...], dict[str, Any], ServiceSpec]]:
    manifests = rendered(kustomization)
    for manifest in manifests:
        if manifest["kind"] in {"Deployment", "Job"}:
            spec = next(
                s for s in SERVICES if manifest["metadata"]["name"] in (s.name, f"{s.name}-migrate")
            )
            yield manifests, manifest, spec


@pytest.mark.parametrize("kustomization", ["deploy/k8s/overlays/dev", "deploy/k8s/overlays/prod"])
def test_kubernetes_sets_only_settings_that_exist(kustomization: str) -> None:
    unknown = []
    for manifests, workload, spec in _workloads(kustomization):
        for variable in container_environment(manifests, workload, spec):
            if variable not in setting_names(spec):
                unknown.append(f"{workload['metadata']['name']}: {variable}")

    assert unknown == []


def test_prod_settings_satisfy_production_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the operator's Secrets in place, every workload starts in production mode,
    which refuses development secrets and a missing signing key."""
    for manifests, workload, spec in _workloads("deploy/k8s/overlays/prod"):
        environment = container_environment(manifests, workload, spec)

        settings = _settings_from(spec, environment, monkeypatch)

        assert settings.is_production, workload["metadata"]["name"]
        assert settings.http_host == "0.0.0.0"  # noqa: S104
        assert settings.http_port == spec.http_port


def test_dev_overlay_secrets_are_development_values_that_production_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for manifests, workload, spec in _workloads("deploy/k8s/overlays/dev"):
        environment = container_environment(manifests, workload, spec)
        settings = _settings_from(spec, environment, monkeypatch)
        assert settings.environment.value == "development"
        if spec.database is None:
            continue

        environment[f"{spec.env_prefix}ENVIRONMENT"] = "production"
        with pytest.raises(ValidationError, match="production mode refuses"):
            _settings_from(spec, environment, monkeypatch)


def test_kubernetes_workloads_listen_on_the_port_their_container_declares(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for manifests, workload, spec in _workloads("deploy/k8s/overlays/prod"):
        if workload["kind"] != "Deployment":
            continue
        settings = _settings_from(
            spec, container_environment(manifests, workload, spec), monkeypatch
        )
        ports = {
            port["name"]: port["containerPort"]
            for port in workload["spec"]["template"]["spec"]["containers"][0]["ports"]
        }

        assert ports["http"] == settings.http_port == spec.http_port
        if "grpc" in ports:
            assert ports["grpc"] == getattr(settings, "grpc_port", None)
            assert getattr(settings, "grpc_host", None) == "0.0.0.0"  # noqa: S104
