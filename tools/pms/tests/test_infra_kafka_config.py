"""Rendering of the single-node Kafka files and the cluster id, without starting anything."""

import base64
import re
import secrets
from pathlib import Path

import pytest

from pms_cli.infra.kafka import configured_broker_port
from pms_cli.infra.kafka_config import (
    escape_property_value,
    load_or_create_cluster_id,
    new_cluster_id,
    render_log4j_config,
    render_server_properties,
)
from pms_cli.infra.paths import InfraPaths


def _parse(text: str) -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key] = value
    return settings


def test_server_properties_hold_the_single_node_settings(tmp_path: Path) -> None:
    settings = _parse(render_server_properties(tmp_path / "data", 9092, 9093))

    assert settings["process.roles"] == "broker,controller"
    assert settings["node.id"] == "1"
    assert settings["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert settings["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert settings["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert settings["controller.listener.names"] == "CONTROLLER"
    assert settings["log.dirs"] == str(tmp_path / "data")
    for key in (
        "offsets.topic.replication.factor",
        "offsets.topic.num.partitions",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "transaction.state.log.num.partitions",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
        "min.insync.replicas",
    ):
        assert settings[key] == "1", key
    assert settings["group.initial.rebalance.delay.ms"] == "0"
    assert int(settings["log.cleaner.dedupe.buffer.size"]) <= 32 * 1024 * 1024


def test_server_properties_follow_the_ports() -> None:
    settings = _parse(render_server_properties(Path("/data"), 19092, 19093))

    assert settings["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert settings["controller.quorum.voters"] == "1@127.0.0.1:19093"


def test_cluster_id_is_16_random_bytes_in_url_safe_base64_without_padding() -> None:
    cluster_id = new_cluster_id()

    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert new_cluster_id() != cluster_id


def test_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xF8 is 111110 in its top six bits: "-" in URL-safe base64.
    draws = iter([b"\xf8" + bytes(15), bytes(16)])
    monkeypatch.setattr(secrets, "token_bytes", lambda _size: next(draws))

    assert new_cluster_id() == "AAAAAAAAAAAAAAAAAAAAAA"


def test_cluster_id_is_made_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "kafka" / "cluster-id"

    first = load_or_create_cluster_id(path)

    assert load_or_create_cluster_id(path) == first
    assert path.read_text().strip() == first


def test_property_values_are_escaped_for_java() -> None:
    assert escape_property_value("/plain/path") == "/plain/path"
    assert escape_property_value("C:\\kafka") == "C:\\\\kafka"
    assert escape_property_value("/données") == "/donn\\u00e9es"
    assert escape_property_value("😀") == "\\ud83d\\ude00"


def test_log4j_config_writes_into_the_given_folder(tmp_path: Path) -> None:
    settings = _parse(render_log4j_config(tmp_path))

    assert settings["appender.file.fileName"] == str(tmp_path / "server.log")
    assert settings["rootLogger.appenderRef.file.ref"] == "file"
    assert settings["shutdownHook"] == "disable"


def test_a_running_broker_port_is_read_back_from_its_config(tmp_path: Path) -> None:
    paths = InfraPaths(tmp_path)
    assert configured_broker_port(paths) is None
    paths.kafka_dir.mkdir()
    paths.kafka_properties.write_text(render_server_properties(paths.kafka_data_dir, 19092, 19093))

    assert configured_broker_port(paths) == 19092
