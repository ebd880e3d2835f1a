"""Environment variables of the infra and small pure helpers."""

from pathlib import Path

import pytest

from pms_cli.infra.errors import InfraError
from pms_cli.infra.java import parse_java_major
from pms_cli.infra.kafka_download import render_pom, resolved_version
from pms_cli.infra.postgres import render_server_settings
from pms_cli.infra.postgres_binaries import parse_pg_version, pick_highest
from pms_cli.infra.processes import port_in_use
from pms_cli.infra.runner import exit_code
from pms_cli.infra.settings import load_settings


def test_defaults_start_our_own_infra() -> None:
    settings = load_settings({})

    assert settings.external_postgres_url is None
    assert settings.external_kafka_bootstrap_servers is None
    assert settings.postgres_port == 54329
    assert (settings.kafka_port, settings.kafka_controller_port) == (9092, 9093)
    assert settings.kafka_version == "4.3.1"
    assert settings.cache_dir == Path.home() / ".cache" / "pms"


def test_environment_overrides(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "PMS_POSTGRES_URL": "postgresql://a:b@db:5432/postgres",
            "PMS_KAFKA_BOOTSTRAP_SERVERS": "broker:9092",
            "PMS_INFRA_POSTGRES_PORT": "6543",
            "PMS_INFRA_KAFKA_PORT": "19092",
            "PMS_INFRA_KAFKA_CONTROLLER_PORT": "19093",
            "PMS_CACHE_DIR": str(tmp_path),
            "PMS_STATE_DIR": str(tmp_path / "state"),
        }
    )

    assert settings.external_postgres_url == "postgresql://a:b@db:5432/postgres"
    assert settings.external_kafka_bootstrap_servers == "broker:9092"
    assert settings.postgres_port == 6543
    assert (settings.kafka_port, settings.kafka_controller_port) == (19092, 19093)
    assert settings.cache_dir == tmp_path
    assert settings.state_dir_override == tmp_path / "state"


@pytest.mark.parametrize(
    "environ",
    [
        {"PMS_INFRA_POSTGRES_PORT": "abc"},
        {"PMS_INFRA_KAFKA_PORT": "70000"},
        {"PMS_INFRA_KAFKA_PORT": "9093"},
    ],
)
def test_bad_ports_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(InfraError):
        load_settings(environ)


def test_versions_are_parsed() -> None:
    assert parse_pg_version("pg_ctl (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)") == (15, 13)
    assert parse_pg_version("nonsense") == ()
    assert parse_java_major('openjdk version "17.0.15" 2025-04-15') == 17
    assert parse_java_major('java version "1.8.0_392"') == 8
    assert parse_java_major('openjdk version "21" 2023-09-19') == 21
    assert parse_java_major("no java here") is None


def test_the_highest_postgres_version_wins() -> None:
    candidates = [(Path("/a"), (13, 2)), (Path("/b"), (16, 1)), (Path("/c"), (15, 9))]

    assert pick_highest(candidates) == Path("/b")
    assert pick_highest([]) is None


def test_postgres_settings_listen_on_loopback_with_200_connections(tmp_path: Path) -> None:
    text = render_server_settings(54329, tmp_path / "it's")

    assert "listen_addresses = '127.0.0.1'" in text
    assert "port = 54329" in text
    assert "max_connections = 200" in text
    assert f"unix_socket_directories = '{tmp_path}/it''s'" in text


def test_pom_lists_kafka_and_a_log4j2_backend(tmp_path: Path) -> None:
    pom = render_pom("4.3.1", "2.25.5")

    assert "<packaging>pom</packaging>" in pom
    assert "<artifactId>kafka_2.13</artifactId><version>4.3.1</version>" in pom
    for artifact in ("log4j-api", "log4j-core", "log4j-slf4j-impl"):
        assert f"<artifactId>{artifact}</artifactId><version>2.25.5</version>" in pom


def test_resolved_version_comes_from_the_kafka_jar(tmp_path: Path) -> None:
    assert resolved_version(tmp_path) is None
    (tmp_path / "kafka-clients-4.2.0.jar").touch()
    (tmp_path / "kafka_2.13-4.2.0.jar").touch()

    assert resolved_version(tmp_path) == "4.2.0"


def test_port_in_use_sees_a_listening_socket() -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port_in_use("127.0.0.1", port)


def test_exit_code_follows_the_shell_convention() -> None:
    assert exit_code(0) == 0
    assert exit_code(3) == 3
    assert exit_code(-15) == 143


def test_the_development_cluster_logs_errors_without_detail_lines(tmp_path: Path) -> None:
    # A unique violation's DETAIL quotes the row ("Key (lower(email))=(...) already exists").
    assert "log_error_verbosity = terse" in render_server_settings(54329, tmp_path)
