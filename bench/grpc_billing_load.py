"""Load on billing's ``CreateBillingAccount``: calls per second and latency percentiles.

By default the billing service runs in this process (its real app: gRPC server, pools
and, with ``--with-workers``, the outbox relay publishing every ACCOUNT_CREATED and the
consumer, on private topics) on a free port, against a scratch database created on
``PMS_POSTGRES_URL`` and dropped afterwards. ``--target host:port`` loads a billing
service that runs elsewhere instead. Every call is for a new patient id, so every call
inserts an account and an event.

    eval "$(uv run pms infra env)"
    uv run python bench/grpc_billing_load.py --concurrency 32 --seconds 15
"""

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from pms_billing.app import create_app
from pms_billing.models import MIGRATIONS_DIR
from pms_billing.settings import BillingSettings
from pms_contracts.billing_service_pb2 import BillingRequest
from pms_contracts.billing_service_pb2_grpc import BillingServiceStub
from pms_platform.logging import configure_logging
from pms_testing.databases import create_database, drop_databases


@asynccontextmanager
async def private_topics(bootstrap_servers: str, count: int) -> AsyncIterator[list[str]]:
    """Topics of this run only (the shared ones are left alone), deleted afterwards."""
    names = [f"bench-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    if not names:
        yield names
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(n, num_partitions=3, replication_factor=1) for n in names]
        )
        yield names
        await admin.delete_topics(names)
    finally:
        await admin.close()


@asynccontextmanager
async def in_process_billing(with_workers: bool) -> AsyncIterator[str]:
    """Billing on a scratch database in this process; yields its gRPC target. With
    ``with_workers`` its outbox relay and consumer run too, on private topics."""
    postgres_url = os.environ["PMS_POSTGRES_URL"]
    bootstrap_servers = os.environ.get("PMS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    database_url = await create_database(postgres_url, MIGRATIONS_DIR)
    try:
        async with private_topics(bootstrap_servers, 3 if with_workers else 0) as topics:
            settings = BillingSettings(
                database_url=database_url,
                kafka_bootstrap_servers=bootstrap_servers,
                grpc_port=0,
                background_workers=with_workers,
                **(
                    {
                        "billing_topic": topics[0],
                        "patient_topic": topics[1],
                        "patient_dead_letter_topic": topics[2],
                        "consumer_group": f"bench-{uuid.uuid4().hex}",
                    }
                    if with_workers
                    else {}
                ),
            )
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                yield f"127.0.0.1:{app.state.grpc_port}"
    finally:
        await drop_databases(postgres_url, [database_url])


async def load(target: str, concurrency: int, seconds: float, warmup: float) -> None:
    latencies: list[float] = []
    codes: Counter[str] = Counter()
    async with grpc.aio.insecure_channel(target) as channel:
        stub = BillingServiceStub(channel)
        started = time.perf_counter()
        measure_from = started + warmup
        stop_at = measure_from + seconds

        async def caller() -> None:
            while (now := time.perf_counter()) < stop_at:
                request = BillingRequest(
                    patientId=str(uuid.uuid4()), name="Load Test", email="load@example.com"
                )
                try:
                    await stub.CreateBillingAccount(request, timeout=5)
                    code = "OK"
                except grpc.aio.AioRpcError as error:
                    code = error.code().name
                if now >= measure_from:
                    latencies.append(time.perf_counter() - now)
                    codes[code] += 1

        await asyncio.gather(*(caller() for _ in range(concurrency)))
    cuts = statistics.quantiles(latencies, n=100)
    print(f"target {target}, {concurrency} concurrent callers, {seconds:.0f} s measured")
    print(f"calls/s {len(latencies) / seconds:,.0f}   outcomes {dict(codes)}")
    print(
        f"latency ms  p50 {cuts[49] * 1000:.2f}  p90 {cuts[89] * 1000:.2f}  "
        f"p99 {cuts[98] * 1000:.2f}  max {max(latencies) * 1000:.2f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", help="host:port of a running billing gRPC server")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--with-workers",
        action="store_true",
        help="run the outbox relay (publishing every event) and the consumer, on private topics",
    )
    options = parser.parse_args()
    configure_logging("billing-bench", "WARNING")  # one log line per call would skew it
    if options.target:
        await load(options.target, options.concurrency, options.seconds, options.warmup)
        return
    async with in_process_billing(options.with_workers) as target:
        await load(target, options.concurrency, options.seconds, options.warmup)


if __name__ == "__main__":
    asyncio.run(main())
