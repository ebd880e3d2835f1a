"""``rebuild`` empties the aggregates and replays the topics, ending with the numbers
the live consumer had; the service then continues from where the replay stopped."""

import asyncio
import os
import sys
import uuid
from typing import Any

import pytest

from pms_analytics.rebuild import rebuild
from pms_analytics.settings import AnalyticsSettings
from pms_platform.kafka import EventProducer, group_offsets, topic_offsets
from pms_testing.polling import eventually

from .conftest import (
    AnalyticsFactory,
    Topics,
    original_patient_event,
    patient_event,
    totals_of,
    workload,
)

pytestmark = pytest.mark.integration


async def publish_history(producer: EventProducer, topics: Topics) -> int:
    """A workload plus a redelivery, an original-format event and a poison message;
    returns how many event keys it leaves behind."""
    work = workload(patients=60, seed=11)
    await work.publish(producer, topics)
    again = work.patient_events[0]
    await producer.send(topics.patient, key=again.patientId, value=again)
    original = original_patient_event(str(uuid.uuid4()), "PATIENT_CREATED")
    await producer.send(topics.patient, key=original.patientId, value=original)
    await producer.send(topics.billing, key="k", value=b"\xff\xff not protobuf")
    return work.size + 1


async def dead_letters(settings: AnalyticsSettings) -> int:
    offsets = await topic_offsets(
        settings.kafka_bootstrap_servers, [settings.billing_dead_letter_topic]
    )
    return sum(offsets.end.values())


async def test_a_rebuild_reproduces_every_report_and_the_service_continues_after_it(
    analytics_factory: AnalyticsFactory, producer: EventProducer, topics: Topics
) -> None:
    keys = await publish_history(producer, topics)
    async with analytics_factory(on=topics) as live:
        await live.wait_for_processed(keys)
        await _wait_for_dead_letters(live.settings, 1)
        before = await live.reports()
        settings = live.settings
        database_url = settings.database_url

    report = await rebuild(settings)

    marks = (await topic_offsets(settings.kafka_bootstrap_servers, settings.topics)).end
    assert report.marks == marks
    assert report.group_offsets_set
    assert await group_offsets(settings.kafka_bootstrap_servers, settings.consumer_group) == marks
    assert report.outcomes == {"applied": keys, "duplicate": 1, "dead_lettered": 1}
    assert await dead_letters(settings) == 1  # dead-lettered once, when first consumed
    async with analytics_factory(on=topics, database_url=database_url) as restarted:
        assert await restarted.reports() == before
        late = patient_event(str(uuid.uuid4()), "PATIENT_CREATED")
        await producer.send(topics.patient, key=late.patientId, value=late)
        await restarted.wait_for_processed(keys + 1)
        after = await restarted.summary()
    assert after["patients"]["created"] == before["summary"]["patients"]["created"] + 1
    assert after["billing"] == before["summary"]["billing"]


async def test_a_rebuild_while_an_instance_runs_and_events_arrive_ends_with_the_right_totals(
    analytics_factory: AnalyticsFactory, producer: EventProducer, topics: Topics
) -> None:
    first, second = workload(patients=60, seed=12), workload(patients=60, seed=13)
    async with analytics_factory(on=topics) as live:
        await first.publish(producer, topics)
        await live.wait_for_processed(first.size)
        rebuilding = asyncio.create_task(rebuild(live.settings))
        await second.publish(producer, topics)
        report = await asyncio.wait_for(rebuilding, 60)
        await live.wait_for_processed(first.size + second.size)

        assert not report.group_offsets_set  # the running instance keeps its own
        summary = totals_of(await live.summary())

    assert summary["patients"] == {
        key: first.expected["patients"][key] + second.expected["patients"][key]
        for key in ("active", "created", "updated", "deleted")
    }
    assert summary["invoices"] == tuple(
        a + b for a, b in zip(first.expected["invoices"], second.expected["invoices"], strict=True)
    )


async def test_python_m_pms_analytics_rebuild_runs_the_rebuild(
    analytics_factory: AnalyticsFactory, producer: EventProducer, topics: Topics
) -> None:
    work = workload(patients=20, seed=14)
    await work.publish(producer, topics)
    async with analytics_factory(on=topics) as live:
        await live.wait_for_processed(work.size)
        before = await live.reports()
        settings = live.settings

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pms_analytics",
        "rebuild",
        env={**os.environ, **_environment(settings)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)

    assert process.returncode == 0, output.decode()
    assert b"rebuild finished" in output
    async with analytics_factory(
        on=topics, database_url=settings.database_url, background_workers=False
    ) as restarted:
        assert await restarted.reports() == before


async def _wait_for_dead_letters(settings: AnalyticsSettings, count: int) -> None:
    async def reached() -> bool:
        return await dead_letters(settings) >= count

    await eventually(reached, 30.0, description=f"{count} dead letters")


def _environment(settings: AnalyticsSettings) -> dict[str, str]:
    values: dict[str, Any] = settings.model_dump(
        include={
            "database_url",
            "kafka_bootstrap_servers",
            "patient_topic",
            "billing_topic",
            "patient_dead_letter_topic",
            "billing_dead_letter_topic",
            "consumer_group",
        }
    )
    return {f"PMS_ANALYTICS_{name.upper()}": str(value) for name, value in values.items()}
