"""deploy/compose.yaml starts the whole platform with no other step, in a safe order,
with the same infrastructure the launcher makes: what Docker would only tell at run time."""

import base64
import re
from typing import Any

import pytest

from pms_cli.deploy_check import COMPOSE_FILE, load_compose, repo_root
from pms_cli.infra.kafka_admin import PROJECT_TOPICS
from pms_cli.infra.settings import DEFAULT_KAFKA_VERSION
from pms_cli.services import SERVICES, ServiceSpec

DATABASE_SERVICES = [spec for spec in SERVICES if spec.database is not None]


def _services() -> dict[str, Any]:
    services: dict[str, Any] = load_compose()["services"]
    return services


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    depends_on = service.get("depends_on", {})
    assert isinstance(depends_on, dict), "depends_on needs conditions, so write a mapping"
    return {name: entry["condition"] for name, entry in depends_on.items()}


def test_only_the_gateway_is_published_on_its_port() -> None:
    published = {name: s["ports"] for name, s in _services().items() if s.get("ports")}

    # The host's port is a variable (make containers-test moves it), 4004 by default.
    assert published == {"gateway": ["${PMS_GATEWAY_PUBLISHED_PORT:-4004}:4004"]}


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_each_service_is_built_for_itself_with_its_port(spec: ServiceSpec) -> None:
    service = _services()[spec.name]

    assert service["image"] == f"pms-{spec.name}:dev"
    assert service["build"]["context"] == ".."
    assert service["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert service["build"]["args"] == {"SERVICE": spec.name, "HTTP_PORT": str(spec.http_port)}


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_each_service_has_a_readiness_healthcheck_on_its_port(spec: ServiceSpec) -> None:
    test = _services()[spec.name]["healthcheck"]["test"]

    assert test[:3] == ["CMD", "python", "-c"]
    assert f"http://127.0.0.1:{spec.http_port}/health/ready" in test[3]


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_each_service_starts_after_its_migration_and_the_topics(spec: ServiceSpec) -> None:
    depends_on = _depends_on(_services()[spec.name])

    if spec.database is not None:
        assert depends_on[f"{spec.name}-migrate"] == "service_completed_successfully"
    if spec.uses_kafka:
        assert depends_on["kafka-topics"] == "service_completed_successfully"


def test_the_gateway_starts_when_every_upstream_is_ready() -> None:
    depends_on = _depends_on(_services()["gateway"])

    assert depends_on == {s.name: "service_healthy" for s in SERVICES if s.name != "gateway"}


@pytest.mark.parametrize("spec", DATABASE_SERVICES, ids=lambda s: s.name)
def test_migrations_run_once_after_postgres_is_ready(spec: ServiceSpec) -> None:
    migration = _services()[f"{spec.name}-migrate"]

    assert migration["restart"] == "no"
    assert _depends_on(migration) == {"postgres": "service_healthy"}


def test_every_dependency_condition_names_a_service_with_what_it_needs() -> None:
    services = _services()
    for name, service in services.items():
        for target, condition in _depends_on(service).items():
            assert target in services, f"{name} depends on unknown {target}"
            if condition == "service_healthy":
                healthcheck = services[target].get("healthcheck", {})
                assert healthcheck.get("test"), target
                assert not healthcheck.get("disable"), target
            else:
                assert condition == "service_completed_successfully"
                assert services[target].get("restart") == "no", target


def test_the_init_script_creates_every_service_database() -> None:
    postgres = _services()["postgres"]
    mounts = [v for v in postgres["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    assert len(mounts) == 1
    script = (repo_root() / "deploy" / mounts[0].split(":")[0]).read_text(encoding="utf-8")

    created = set(re.findall(r"CREATE DATABASE (\w+);", script))

    assert created == {spec.database for spec in DATABASE_SERVICES}
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "--host=127.0.0.1" in postgres["healthcheck"]["test"]


def test_kafka_is_the_launchers_version_in_kraft_mode() -> None:
    kafka = _services()["kafka"]
    environment = kafka["environment"]

    # The official image unless PMS_KAFKA_IMAGE names another (make containers-test's own).
    assert kafka["image"] == f"${{PMS_KAFKA_IMAGE:-apache/kafka:{DEFAULT_KAFKA_VERSION}}}"
    assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert environment["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    cluster_id = environment["CLUSTER_ID"]
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_the_topic_job_creates_the_launchers_topics() -> None:
    topics = _services()["kafka-topics"]
    script = "\n".join(topics["command"])

    created = {
        name: int(count) for name, count in re.findall(r"^create (\S+) (\d+)$", script, re.M)
    }

    assert topics["image"] == _services()["kafka"]["image"]
    assert created == dict(PROJECT_TOPICS)
    assert "--if-not-exists" in script
    assert _depends_on(topics) == {"kafka": "service_healthy"}


def test_files_the_compose_file_refers_to_exist() -> None:
    deploy = (repo_root() / COMPOSE_FILE).parent
    for name, service in _services().items():
        build = service.get("build")
        if build:
            context = (deploy / build["context"]).resolve()
            assert (context / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (deploy / source).is_file(), f"{name}: {source}"


def test_auth_keeps_its_development_key_in_a_volume() -> None:
    auth = _services()["auth"]
    key_dir = auth["environment"]["PMS_AUTH_DEVELOPMENT_KEY_DIR"]
    volume, mount = auth["volumes"][0].split(":")

    assert key_dir.startswith(mount + "/")
    assert volume in load_compose()["volumes"]
