"""Stops, crashes and rebalances lose and double-count nothing: the processed-event
keys are written with the aggregates, and offsets are committed only after them."""

import asyncio
import uuid

import pytest

from pms_analytics.aggregates import AnalyticsChange
from pms_platform.event_consumer import IdempotentConsumer
from pms_platform.kafka import ConsumedEvent, EventProducer, group_offsets

from .conftest import Analytics, AnalyticsFactory, Topics, TopicSet, totals_of, workload

pytestmark = pytest.mark.integration


def crash_after(
    consumer: IdempotentConsumer[AnalyticsChange], count: int, monkeypatch: pytest.MonkeyPatch
) -> asyncio.Event:
    """Make ``consumer`` hang once it has applied ``count`` events, right after the
    database commit of the batch that reached them and before that batch's offsets are
    committed: a process killed at the worst moment. The returned event is set when it
    hangs."""
    process_batch = consumer.process_batch
    crashed = asyncio.Event()
    handled = 0

    async def process_then_hang(batch: list[ConsumedEvent]) -> int:
        nonlocal handled
        done = await process_batch(batch)
        handled += done
        if handled >= count:
            crashed.set()
            await asyncio.Event().wait()  # never returns: only cancellation ends it
        return done

    monkeypatch.setattr(consumer, "process_batch", process_then_hang)
    return crashed


async def committed_total(analytics: Analytics) -> int:
    offsets = await group_offsets(
        analytics.settings.kafka_bootstrap_servers, analytics.topics.group
    )
    return sum(offsets.values())


async def test_a_consumer_stopped_while_events_are_pending_resumes_with_the_same_totals(
    analytics_factory: AnalyticsFactory, producer: EventProducer
) -> None:
    work = workload(patients=150, seed=1)
    async with analytics_factory(background_workers=False, consumer_max_poll_records=20) as svc:
        await work.publish(producer, svc.topics)
        first = svc.consumer()
        await first.start()
        await svc.wait_for_processed(60)
        await first.stop()
        applied_before_restart = await svc.processed_count()
        assert applied_before_restart < work.size  # it really stopped half-way
        assert await committed_total(svc) == sum(first.outcomes.values())  # all it did, committed

        second = svc.consumer()
        await second.start()
        try:
            await svc.wait_for_processed(work.size)
        finally:
            await second.stop()

        assert totals_of(await svc.summary()) == work.expected
        assert second.outcomes["duplicate"] == 0  # nothing handled twice after a clean stop


async def test_a_consumer_killed_mid_batch_loses_and_double_counts_nothing(
    analytics_factory: AnalyticsFactory, producer: EventProducer, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = workload(patients=150, seed=2)
    async with analytics_factory(background_workers=False, consumer_max_poll_records=50) as svc:
        await work.publish(producer, svc.topics)
        crashing = svc.consumer()
        crashed = crash_after(crashing, 75, monkeypatch)
        await crashing.start()
        await asyncio.wait_for(crashed.wait(), 30)
        await crashing.stop(timeout_seconds=0.1)  # too short to finish: cancelled
        applied = await svc.processed_count()

        assert 75 <= applied < work.size
        assert await committed_total(svc) < applied  # its last batch applied, offsets not saved

        restarted = svc.consumer()
        await restarted.start()
        try:
            await svc.wait_for_processed(work.size)
        finally:
            await restarted.stop()

        assert totals_of(await svc.summary()) == work.expected
        assert restarted.outcomes["duplicate"] >= 1  # redelivered, recognised, skipped


async def test_two_instances_sharing_four_partitions_through_rebalances_count_as_one(
    analytics_factory: AnalyticsFactory,
    topic_set: TopicSet,
    producer: EventProducer,
) -> None:
    topics: Topics = await topic_set(partitions=4)
    phases = [workload(patients=80, seed=seed) for seed in (3, 4, 5)]
    total = sum(phase.size for phase in phases)
    async with (
        analytics_factory(on=topics, background_workers=False, consumer_max_poll_records=20) as two,
        analytics_factory(on=_other_group(topics)) as one,
    ):
        first = two.consumer()
        second = two.consumer()
        await first.start()
        await phases[0].publish(producer, topics)
        await two.wait_for_processed(phases[0].size // 3)
        await second.start()  # joins while the first is busy: a rebalance
        await phases[1].publish(producer, topics)
        await two.wait_for_processed(phases[0].size + phases[1].size // 2)
        await first.stop()  # leaves while events are pending: another rebalance
        await phases[2].publish(producer, topics)
        try:
            await two.wait_for_processed(total, seconds=60)
        finally:
            await second.stop()
        await one.wait_for_processed(total, seconds=60)

        assert first.outcomes["applied"] > 0
        assert second.outcomes["applied"] > 0
        assert await two.reports() == await one.reports()
        summary = totals_of(await two.summary())
        assert summary["patients"]["created"] == sum(
            phase.expected["patients"]["created"] for phase in phases
        )
        assert summary["invoices"] == tuple(
            sum(phase.expected["invoices"][i] for phase in phases) for i in range(3)
        )


async def test_batches_applied_at_once_end_with_the_numbers_of_one_event_at_a_time(
    analytics_factory: AnalyticsFactory, topics: Topics, producer: EventProducer
) -> None:
    # Published before either consumer starts, so that the batched one gets large
    # batches in which one patient is created, updated and deleted, and invoices of one
    # day and currency add up; the other applies each event in a transaction of its own.
    work = workload(patients=120, seed=9)
    await work.publish(producer, topics)
    async with (
        analytics_factory(consumer_max_poll_records=500) as batched,
        analytics_factory(on=_other_group(topics), consumer_max_poll_records=1) as single,
    ):
        await batched.wait_for_processed(work.size)
        await single.wait_for_processed(work.size)

        assert await batched.reports() == await single.reports()
        assert totals_of(await batched.summary()) == work.expected


def _other_group(topics: Topics) -> Topics:
    return Topics(
        topics.patient,
        topics.billing,
        topics.patient_dead_letters,
        topics.billing_dead_letters,
        f"analytics-single-{uuid.uuid4().hex[:8]}",
    )


async def test_the_summary_is_a_503_problem_while_the_database_is_unreachable(
    analytics_factory: AnalyticsFactory,
) -> None:
    """The summary reads on a plain asyncpg connection, outside the ORM's session: an
    outage there is still a 503 with ``Retry-After``, never a 500."""
    unreachable = "postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none"
    async with analytics_factory(database_url=unreachable, background_workers=False) as svc:
        response = await svc.http.get("/analytics/summary", headers=svc.auth())
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "retry-after" in response.headers
    assert response.json()["type"].endswith("service-unavailable")
