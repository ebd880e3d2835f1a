"""Against the real infra (`pms infra run -- pytest -m integration`).

The ``postgres_url`` and ``kafka_bootstrap_servers`` fixtures come from the platform's
test plugin, which fails (never skips) when the infra is not there."""

from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from pms_cli.infra import PROJECT_TOPICS, SERVICE_DATABASES, database_url, ensure_infra, stop_infra
from pms_cli.infra.java import find_java
from pms_cli.infra.kafka import format_storage
from pms_cli.infra.kafka_admin import ensure_topics
from pms_cli.infra.kafka_config import render_log4j_config, render_server_properties
from pms_cli.infra.kafka_download import ensure_kafka_libs
from pms_cli.infra.paths import InfraPaths
from pms_cli.infra.postgres_setup import ensure_databases
from pms_cli.infra.settings import load_settings

pytestmark = pytest.mark.integration


async def test_the_service_databases_exist_with_pg_trgm(postgres_url: str) -> None:
    connection = await asyncpg.connect(postgres_url)
    try:
        names = {
            row["datname"] for row in await connection.fetch("SELECT datname FROM pg_database")
        }
    finally:
        await connection.close()
    assert set(SERVICE_DATABASES) <= names

    for name in SERVICE_DATABASES:
        database = await asyncpg.connect(database_url(postgres_url, name, driver="postgresql"))
        try:
            assert await database.fetchval("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        finally:
            await database.close()


async def test_the_topics_exist_with_their_partition_counts(kafka_bootstrap_servers: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(list(PROJECT_TOPICS))
    finally:
        await admin.close()
    counts = {entry["topic"]: len(entry["partitions"]) for entry in described}

    assert counts == dict(PROJECT_TOPICS)
    assert PROJECT_TOPICS == {"patient": 6, "billing": 6, "patient.DLT": 1, "billing.DLT": 1}


async def test_setting_up_again_changes_nothing(
    postgres_url: str, kafka_bootstrap_servers: str
) -> None:
    await ensure_databases(postgres_url)
    await ensure_topics(kafka_bootstrap_servers)


async def test_external_infra_is_used_and_never_stopped(
    postgres_url: str, kafka_bootstrap_servers: str, tmp_path: Path
) -> None:
    environ = {
        "PMS_POSTGRES_URL": postgres_url,
        "PMS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
    }

    endpoints = await ensure_infra(state_dir=tmp_path, environ=environ)
    await stop_infra(endpoints, state_dir=tmp_path)

    assert endpoints.postgres_url == postgres_url
    assert endpoints.kafka_bootstrap_servers == kafka_bootstrap_servers
    assert endpoints.started.components == frozenset()
    assert endpoints.environment() == environ


async def test_kafka_storage_formats_with_a_saved_cluster_id_that_starts_with_a_dash(
    tmp_path: Path,
) -> None:
    # An id saved by a launcher from before new_cluster_id avoided a leading "-" (one new
    # cluster in 64): the storage tool took it for an option and the infra never started.
    settings = load_settings({})
    paths = InfraPaths(tmp_path)
    libs, _version = await ensure_kafka_libs(settings.cache_dir, settings.kafka_version)
    paths.kafka_data_dir.mkdir(parents=True)
    paths.kafka_properties.write_text(
        render_server_properties(paths.kafka_data_dir, 1, 2), encoding="utf-8"
    )
    paths.kafka_log4j_config.write_text(render_log4j_config(paths.kafka_logs_dir))
    paths.kafka_cluster_id_file.write_text("-YTIAY0Wi839ejatDUKd8w\n", encoding="ascii")

    await format_storage(await find_java(), paths, libs)

    meta = (paths.kafka_data_dir / "meta.properties").read_text()
    assert "cluster.id=-YTIAY0Wi839ejatDUKd8w" in meta.splitlines()
