"""Scenario ``events``: from a patient's 201 to that patient being counted by analytics.

Creates are sent open-loop at a steady rate (each at its due time, whatever the answers
do) by this asyncio client: it measures lag, not peak, so Python is fine here (with
aiohttp's client: httpx's cost about 15 ms of CPU per request at this concurrency, as
much as the services, so the client's own CPU is reported too). Meanwhile
a poller reads ``patients.created`` of ``/api/analytics/summary`` back to back. The k-th
201 is counted once the summary shows ``baseline + k``: its lag is the time from that
201 to the first poll answer showing it (a poll's answer time, so lags are never
understated; the poll period bounds the resolution and is reported with them).
"""

import asyncio
import bisect
import contextlib
import json
import resource
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiokafka.errors import KafkaError

from pms_cli.bench.client import PATIENTS_PATH, SUMMARY_PATH, Target, patient_body
from pms_cli.bench.kafka_probe import KafkaProbe, to_kafka_ms
from pms_cli.bench.stats import percentile

MAX_IN_FLIGHT = 64  # as many as the largest closed-loop run; beyond, creates wait here
DRAIN_SECONDS = 20.0


@dataclass
class Poll:
    answered_at: float
    count: int


@dataclass
class EventsOutcome:
    rate: float
    seconds: float
    sent: int = 0
    created: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    create_latencies_ms: list[float] = field(default_factory=list)
    created_at: list[float] = field(default_factory=list)
    answered_by_id: dict[str, float] = field(default_factory=dict)
    polls: list[Poll] = field(default_factory=list)
    baseline: int = 0
    first_sent: float = 0.0
    last_answer: float = 0.0
    client_cpu_seconds: float = 0.0


def lags_ms(created_at: list[float], polls: list[Poll], baseline: int) -> tuple[list[float], int]:
    """Lag of each 201 (sorted by answer time) to the first poll counting it; and how
    many were never seen counted."""
    answered = [poll.answered_at for poll in polls]
    counts = [poll.count for poll in polls]
    # The running maximum, so that a poll answered out of order cannot count backwards.
    for i in range(1, len(counts)):
        counts[i] = max(counts[i], counts[i - 1])
    lags: list[float] = []
    missing = 0
    for k, at in enumerate(sorted(created_at), start=1):
        first_after = bisect.bisect_left(answered, at)
        needed = baseline + k
        position = bisect.bisect_left(counts, needed, lo=first_after)
        if position >= len(polls):
            missing += 1
            continue
        lags.append((answered[position] - at) * 1000)
    return lags, missing


def summarize(outcome: EventsOutcome) -> dict[str, Any]:
    lags, missing = lags_ms(outcome.created_at, outcome.polls, outcome.baseline)
    # The rate the platform kept up with: 201s over the time from the first send to the
    # last answer (when it cannot keep up, answers queue and this falls below the target).
    elapsed = outcome.last_answer - outcome.first_sent
    periods = [
        (b.answered_at - a.answered_at) * 1000
        for a, b in zip(outcome.polls, outcome.polls[1:], strict=False)
    ]
    return {
        "status": "measured",
        "target_rate": outcome.rate,
        "seconds": outcome.seconds,
        "sent": outcome.sent,
        "created": outcome.created,
        "achieved_rate": round(outcome.created / elapsed, 1) if elapsed > 0 else 0.0,
        "failed": outcome.failed,
        "create_latency_ms": {  # from each create's due time (CO-corrected)
            "p50": round(percentile(outcome.create_latencies_ms, 50), 2),
            "p99": round(percentile(outcome.create_latencies_ms, 99), 2),
        },
        "lag_ms": {
            "p50": round(percentile(lags, 50), 1),
            "p90": round(percentile(lags, 90), 1),
            "p99": round(percentile(lags, 99), 1),
            "max": round(max(lags), 1) if lags else None,
        },
        "never_counted": missing,
        "poll_period_ms": round(percentile(periods, 50), 1),
        "client_cpu_seconds": round(outcome.client_cpu_seconds, 2),
        "polls": len(outcome.polls),
    }


async def created_count(session: aiohttp.ClientSession, target: Target, token: str) -> int | None:
    """``patients.created`` of the analytics summary, or ``None`` when not available."""
    try:
        async with session.get(
            target.url(SUMMARY_PATH), headers={"Authorization": f"Bearer {token}"}
        ) as response:
            if response.status != 200:
                return None
            data = await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    try:
        value = data["patients"]["created"]
    except (KeyError, TypeError):
        return None
    return value if isinstance(value, int) else None


async def _poll_summary(
    session: aiohttp.ClientSession,
    target: Target,
    token: str,
    outcome: EventsOutcome,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        count = await created_count(session, target, token)
        if count is not None:
            outcome.polls.append(Poll(time.monotonic(), count))
        await asyncio.sleep(0.005)


async def run_events(
    target: Target,
    token: str,
    rate: float,
    seconds: float,
    kafka: str | None = None,
    tag: str | None = None,
) -> dict[str, Any]:
    """Send ``rate`` creates per second for ``seconds``; measure each one's lag; with
    ``kafka`` (the platform's broker) also each one's time to reach Kafka. ``tag`` starts
    every email (``bench-<tag>-<n>@example.com``; the run's id, so a cleanup finds them)."""
    tag = tag or uuid.uuid4().hex[:8]
    if kafka is None:
        return await _run_events(target, token, rate, seconds, tag)
    probe = KafkaProbe(kafka)
    try:
        await probe.start()
    except KafkaError as error:
        result = await _run_events(target, token, rate, seconds, tag)
        result["to_kafka_ms"] = f"not measured: {error}"
        return result
    try:
        return await _run_events(target, token, rate, seconds, tag, probe.first_seen)
    finally:
        await probe.stop()


async def _run_events(
    target: Target,
    token: str,
    rate: float,
    seconds: float,
    tag: str,
    first_seen: dict[str, float] | None = None,
) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
    async with (
        aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=30)
        ) as client,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as poller,
    ):
        baseline = await created_count(poller, target, token)
        if baseline is None:
            return {"status": "skipped: analytics not available"}
        outcome = EventsOutcome(rate=rate, seconds=seconds, baseline=baseline)
        stop = asyncio.Event()
        polling = asyncio.create_task(_poll_summary(poller, target, token, outcome, stop))
        headers = {"Authorization": f"Bearer {token}"}
        gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        url = target.url(PATIENTS_PATH)

        async def create(index: int, due: float) -> None:
            # Latency from when the create was due, not from when it got a connection:
            # corrected for coordinated omission (waiting here counts).
            async with gate:
                try:
                    async with client.post(
                        url, json=patient_body(f"{tag}-{index}"), headers=headers
                    ) as response:
                        body = await response.read()
                        status = str(response.status)
                except (aiohttp.ClientError, TimeoutError) as error:
                    status = type(error).__name__
                answered = time.monotonic()
                outcome.last_answer = max(outcome.last_answer, answered)
                if status in ("200", "201"):
                    outcome.created += 1
                    outcome.created_at.append(answered)
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        outcome.answered_by_id[str(json.loads(body)["id"])] = answered
                    outcome.create_latencies_ms.append((answered - due) * 1000)
                else:
                    outcome.failed[status] = outcome.failed.get(status, 0) + 1

        tasks = []
        cpu_before = _own_cpu_seconds()
        total = round(rate * seconds)
        start = outcome.first_sent = time.monotonic()
        for index in range(total):
            due = start + index / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(create(index, due)))
            outcome.sent += 1
        await asyncio.gather(*tasks)
        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline:
            if outcome.polls and outcome.polls[-1].count >= baseline + outcome.created:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await polling
        outcome.client_cpu_seconds = _own_cpu_seconds() - cpu_before
    summary = summarize(outcome)
    if first_seen is not None:
        summary["to_kafka_ms"] = to_kafka_ms(outcome.answered_by_id, first_seen)
    return summary


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
