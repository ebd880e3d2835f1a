"""A consumer group of ours shared with a member that runs the official Java client
with its default assignors (``range``, ``cooperative-sticky``), as a Java service of the
original system would join it: the group must agree on a protocol and split the
partitions, where a member offering only ``roundrobin`` made the Java member fail with
InconsistentGroupProtocolException."""

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pms_cli.infra.kafka_download import ensure_kafka_libs
from pms_cli.infra.settings import load_settings
from pms_platform.kafka import EventConsumer, EventProducer
from pms_testing.kafka import TopicFactory
from pms_testing.polling import eventually

pytestmark = pytest.mark.integration

JAVA_MEMBER = Path(__file__).parent / "java" / "JavaGroupMember.java"
EVENTS = 20


class JavaMember:
    """The Java program's lines, read as it prints them."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode(errors="replace").strip())

    def assigned(self) -> list[str]:
        prefix = "ASSIGNED "
        return [line.removeprefix(prefix) for line in self.lines if line.startswith(prefix)]

    def records(self) -> set[tuple[int, int]]:
        return {
            (int(partition), int(offset))
            for _, partition, offset in (
                line.split() for line in self.lines if line.startswith("RECORD ")
            )
        }


@contextlib.asynccontextmanager
async def java_member(bootstrap: str, topic: str, group: str) -> AsyncIterator[JavaMember]:
    java = shutil.which("java")
    if java is None:
        pytest.fail("this test needs a Java runtime (the machine's Java 17)")
    settings = load_settings()
    libs, _ = await ensure_kafka_libs(settings.cache_dir, settings.kafka_version)
    process = await asyncio.create_subprocess_exec(
        java,
        "-cp",
        f"{libs}/*",
        str(JAVA_MEMBER),
        bootstrap,
        topic,
        group,
        "60",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    member = JavaMember(process)
    reader = asyncio.create_task(member.read())
    try:
        yield member
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
        await reader


async def test_a_java_member_with_its_default_assignors_shares_our_consumer_group(
    kafka_bootstrap_servers: str, kafka_topic_factory: TopicFactory
) -> None:
    topic = await kafka_topic_factory(partitions=2)
    group = f"java-{uuid.uuid4().hex}"
    ours: set[tuple[int, int]] = set()
    consumer = EventConsumer(kafka_bootstrap_servers, [topic], group_id=group)
    await consumer.start()

    async def consume() -> None:
        async for batch in consumer.batches(timeout_ms=100):
            ours.update((event.partition, event.offset) for event in batch)
            await consumer.commit(batch)

    polling = asyncio.create_task(consume())
    try:
        async with java_member(kafka_bootstrap_servers, topic, group) as java:

            async def each_holds_one_partition() -> bool:
                assert java.process.returncode is None, "\n".join(java.lines)
                return bool(java.assigned()) and java.assigned()[-1] in {"0", "1"}

            await eventually(each_holds_one_partition, 45)
            async with EventProducer(kafka_bootstrap_servers) as producer:
                for number in range(EVENTS):
                    await producer.send(topic, key=f"patient-{number}", value=b"{}")

            async def all_consumed_once() -> bool:
                return len(ours | java.records()) == EVENTS

            await eventually(all_consumed_once, 30)
            assert not any("Inconsistent" in line for line in java.lines)
            assert ours  # each member consumed its own partition
            assert java.records()
            assert not ours & java.records()
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await consumer.stop()
