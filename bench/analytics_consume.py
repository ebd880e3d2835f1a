"""The analytics consumer: events applied per second, produce-to-visible latency, and
the idle memory of the service.

Everything runs on a scratch database (created on ``PMS_POSTGRES_URL``, dropped after)
and private topics (deleted after); the shared topics and groups are left alone.

- ``throughput``: produce ``--events`` real protobuf events (patients created, updated
  and deleted; accounts and invoices) to private 6-partition topics, then time one
  consumer (the service's own ``analytics_consumer``, in this process) applying them all.
- ``latency``: start ``python -m pms_analytics serve`` as a child process (its idle
  ``VmRSS`` is read first), produce ``PATIENT_CREATED`` at ``--rate`` per second for
  ``--seconds`` on a one-partition topic, and poll ``GET /analytics/summary`` every
  ``--poll-ms`` until each event is counted: the time from its send to its
  visibility, p50/p99. The poller shares the machine with the service: polling very
  often (5 ms = 200 requests per second) measures the polling load as much as the lag.

    eval "$(uv run pms infra env)"
    uv run python bench/analytics_consume.py throughput --events 5000
    uv run python bench/analytics_consume.py latency --rate 200 --seconds 20
"""

import argparse
import asyncio
import functools
import http.server
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from google.protobuf.timestamp_pb2 import Timestamp
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from pms_analytics.handlers import analytics_consumer
from pms_analytics.models import MIGRATIONS_DIR, processed_events
from pms_analytics.service import AnalyticsService
from pms_analytics.settings import AnalyticsSettings
from pms_contracts.billing_event_pb2 import BillingEvent
from pms_contracts.patient_event_pb2 import PatientEvent
from pms_platform.db import Database
from pms_platform.kafka import EventProducer
from pms_platform.logging import configure_logging
from pms_platform.security import Role
from pms_testing.databases import create_database, drop_databases
from pms_testing.processes import ServiceProcess, free_port
from pms_testing.tokens import TokenMinter

POSTGRES_URL = os.environ.get("PMS_POSTGRES_URL", "")
KAFKA = os.environ.get("PMS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


@asynccontextmanager
async def scratch(partitions: int) -> AsyncIterator[AnalyticsSettings]:
    """Settings on a migrated scratch database and private topics, removed afterwards."""
    names = [f"bench-{uuid.uuid4().hex[:12]}" for _ in range(4)]
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    database_url = await create_database(POSTGRES_URL, MIGRATIONS_DIR)
    try:
        await admin.create_topics(
            [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names[:2]]
            + [NewTopic(n, num_partitions=1, replication_factor=1) for n in names[2:]]
        )
        yield AnalyticsSettings(
            database_url=database_url,
            kafka_bootstrap_servers=KAFKA,
            patient_topic=names[0],
            billing_topic=names[1],
            patient_dead_letter_topic=names[2],
            billing_dead_letter_topic=names[3],
            consumer_group=f"bench-{uuid.uuid4().hex[:12]}",
            log_level="WARNING",
        )
    finally:
        await admin.delete_topics(names)
        await admin.close()
        await drop_databases(POSTGRES_URL, [database_url])


def _stamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def mixed_events(count: int) -> Iterator[tuple[str, str, PatientEvent | BillingEvent]]:
    """(topic kind, key, event): per patient a creation, an account and an invoice, and
    sometimes an update, a payment or a deletion, until ``count`` events."""
    chance = random.Random(5)  # noqa: S311 - reproducible test data, not secrets
    made = 0
    while made < count:
        patient_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        born = date(1940, 1, 1) + timedelta(days=chance.randrange(30_000))
        batch: list[tuple[str, PatientEvent | BillingEvent]] = [
            ("patient", _patient(patient_id, "PATIENT_CREATED", now, born)),
            ("billing", _bill("ACCOUNT_CREATED", patient_id, now)),
            ("billing", _bill("INVOICE_ISSUED", patient_id, now, 1500)),
        ]
        if chance.random() < 0.5:
            batch.append(("billing", _bill("INVOICE_PAID", patient_id, now, 1500)))
        if chance.random() < 0.3:
            batch.append(("patient", _patient(patient_id, "PATIENT_UPDATED", now, born)))
        if chance.random() < 0.1:
            batch.append(("patient", _patient(patient_id, "PATIENT_DELETED", now, born)))
        for kind, event in batch[: count - made]:
            yield kind, patient_id, event
        made += len(batch)


def _patient(patient_id: str, kind: str, now: datetime, born: date) -> PatientEvent:
    return PatientEvent(
        patientId=patient_id,
        name="Bench Patient",
        email="bench@example.com",
        event_type=kind,
        event_id=str(uuid.uuid4()),
        occurred_at=_stamp(now),
        date_of_birth=born.isoformat(),
        registered_date=now.date().isoformat(),
    )


def _bill(kind: str, patient_id: str, now: datetime, amount: int = 0) -> BillingEvent:
    return BillingEvent(
        event_id=str(uuid.uuid4()),
        event_type=kind,
        occurred_at=_stamp(now),
        account_id=str(uuid.uuid4()),
        patient_id=patient_id,
        amount_minor=amount,
        currency="GBP" if amount else "",
    )


async def processed(database: Database) -> int:
    async with database.transaction() as session:
        statement = select(func.count()).select_from(processed_events)
        return int((await session.execute(statement)).scalar_one())


async def throughput(events: int) -> None:
    async with scratch(partitions=6) as settings:
        topic = {"patient": settings.patient_topic, "billing": settings.billing_topic}
        started = time.perf_counter()
        async with EventProducer(KAFKA) as producer:
            pending = [
                producer.send(topic[kind], key=key, value=event)
                for kind, key, event in mixed_events(events)
            ]
            for start in range(0, len(pending), 500):
                await asyncio.gather(*pending[start : start + 500])
        print(f"produced {events} events in {time.perf_counter() - started:.1f} s")

        database = Database.from_settings(settings)
        consumer = analytics_consumer(
            database, settings, service=AnalyticsService(), metrics_registry=CollectorRegistry()
        )
        started = time.perf_counter()
        first_applied_at = None
        await consumer.start()
        try:
            async with asyncio.timeout(600):
                while (count := await processed(database)) < events:
                    if count and first_applied_at is None:
                        first_applied_at = time.perf_counter()
                    await asyncio.sleep(0.05)
        finally:
            await consumer.stop()
            await database.dispose()
        done = time.perf_counter()
        steady = events / (done - (first_applied_at or started))
        print(
            f"applied {events} events in {done - started:.1f} s including the group join "
            f"({events / (done - started):.0f}/s); {steady:.0f}/s from the first applied event"
        )


@contextmanager
def jwks_server(minter: TokenMinter) -> Iterator[str]:
    """Serves the minter's public keys, as auth would, from a thread."""
    folder = tempfile.mkdtemp()
    Path(folder, "jwks.json").write_text(json.dumps(minter.jwks))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
    http.server.SimpleHTTPRequestHandler.log_message = lambda *_args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def latency(rate: float, seconds: float, poll_seconds: float) -> None:
    minter = TokenMinter()
    async with scratch(partitions=1) as settings:
        port = free_port()
        with jwks_server(minter) as jwks_url:
            env = {
                **{
                    f"PMS_ANALYTICS_{name.upper()}": str(value)
                    for name, value in settings.model_dump(
                        include={
                            "database_url",
                            "kafka_bootstrap_servers",
                            "patient_topic",
                            "billing_topic",
                            "patient_dead_letter_topic",
                            "billing_dead_letter_topic",
                            "consumer_group",
                        }
                    ).items()
                },
                "PMS_ANALYTICS_HTTP_PORT": str(port),
                "PMS_ANALYTICS_AUTH_JWKS_URL": jwks_url,
                "PMS_ANALYTICS_LOG_LEVEL": "WARNING",
            }
            service = ServiceProcess("pms_analytics", port, env, quiet=False)
            await service.start(ready_path="/health/ready")
            try:
                await _measure(service.pid, port, minter, settings, rate, seconds, poll_seconds)
            finally:
                await service.stop()


async def _measure(
    pid: int,
    port: int,
    minter: TokenMinter,
    settings: AnalyticsSettings,
    rate: float,
    seconds: float,
    poll_seconds: float,
) -> None:
    headers = minter.authorization(Role.ANALYST)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        await asyncio.sleep(5)  # joined the group, settled
        print(f"idle VmRSS of python -m pms_analytics serve: {vm_rss_kib(pid) / 1024:.1f} MiB")

        async def created() -> int:
            response = await client.get("/analytics/summary", headers=headers)
            return int(response.json()["patients"]["created"])

        total = int(rate * seconds)
        sent_at: list[float] = []
        seen_at: list[float] = []
        sending_done = asyncio.Event()

        async def produce() -> None:
            async with EventProducer(KAFKA) as producer:
                begin = time.perf_counter()
                for number in range(total):
                    await asyncio.sleep(max(0.0, begin + number / rate - time.perf_counter()))
                    patient_id = str(uuid.uuid4())
                    event = _patient(
                        patient_id, "PATIENT_CREATED", datetime.now(UTC), date(1980, 1, 1)
                    )
                    sent_at.append(time.perf_counter())
                    await producer.send(settings.patient_topic, key=patient_id, value=event)
            sending_done.set()

        async def watch() -> None:
            async with asyncio.timeout(seconds + 60):
                while len(seen_at) < total:
                    count = await created()
                    now = time.perf_counter()
                    seen_at.extend([now] * (count - len(seen_at)))
                    await asyncio.sleep(poll_seconds)

        await asyncio.gather(produce(), watch())
        delays = sorted((seen - sent) * 1000 for sent, seen in zip(sent_at, seen_at, strict=True))
        p50 = statistics.median(delays)
        p99 = delays[int(len(delays) * 0.99) - 1]
        print(
            f"{total} events at {rate:.0f}/s: produce-to-visible p50 {p50:.0f} ms, "
            f"p99 {p99:.0f} ms, max {delays[-1]:.0f} ms "
            f"(summary polled every {poll_seconds * 1000:.0f} ms)"
        )
        print(f"VmRSS after the run: {vm_rss_kib(pid) / 1024:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("throughput").add_argument("--events", type=int, default=5000)
    latency_parser = commands.add_parser("latency")
    latency_parser.add_argument("--rate", type=float, default=200.0)
    latency_parser.add_argument("--seconds", type=float, default=20.0)
    latency_parser.add_argument("--poll-ms", type=float, default=20.0)
    arguments = parser.parse_args()
    if not POSTGRES_URL:
        sys.exit('PMS_POSTGRES_URL is not set: eval "$(uv run pms infra env)" first')
    configure_logging("bench", "WARNING")
    if arguments.command == "throughput":
        asyncio.run(throughput(arguments.events))
    else:
        asyncio.run(latency(arguments.rate, arguments.seconds, arguments.poll_ms / 1000))


if __name__ == "__main__":
    main()
