"""The outbox relay: the background worker that publishes a service's outbox table
(:mod:`pms_platform.outbox`) to Kafka.

:class:`OutboxRelay` publishes unsent rows in id order and marks them sent only after the
broker acknowledged them.

How it wakes up: the transaction that writes an outbox row also sends ``NOTIFY`` on the
table's channel (:func:`pms_platform.outbox.enqueue`), which PostgreSQL delivers at
commit; the relay listens (``LISTEN``) on a connection of its own and runs a pass at once.
Between notifications it only takes a safety look, for a notification it missed (its
``LISTEN`` connection was down meanwhile) or a row another instance left behind (a crash,
a key that was waiting): ``poll_interval_seconds`` after a pass that found rows, then twice as long
after each pass that found none, up to ``max_poll_interval_seconds``, so an idle relay
issues about one query per ``max_poll_interval_seconds``. While ``LISTEN`` is unavailable
it polls every ``poll_interval_seconds``; a lost ``LISTEN`` connection wakes it, and it
listens again and runs a pass (which finds what was notified in the gap).

Under load it lingers: after a pass that published more than one event (they come
faster than one pass each) it waits ``linger_seconds`` before the next, so the events
committed meanwhile leave together, in one claim, one produce request and one mark, and
every consumer fetches them in one batch. Without it each create was a pass of its own, and
the passes, not the events, were what the relay, the broker and the consumers spent their
time on (``bench/README.md``, 12-03 evening). At light load every pass publishes one event
and none waits: a wait after each of those cost a create up to 15 ms of lag (12-03 night).
A first event after a quiet spell goes at once: the wait follows a pass, it does not
precede one.

Several instances may run: rows are claimed with ``FOR UPDATE SKIP LOCKED``, and a row
waits while an earlier unsent row with the same key is claimed by another instance, so one
key's events are published in id order. Delivery is at least once (a crash between the
acknowledgement and the commit sends a row again): consumers drop duplicates by event id.
"""

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import orjson
from sqlalchemy import Table

from pms_platform.backoff import Backoff
from pms_platform.db import Database
from pms_platform.kafka import EventProducer
from pms_platform.logging import get_logger
from pms_platform.retention import RetentionPurge

_log = get_logger("pms.outbox")


@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    key: str | None
    value: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class RelayPass:
    """What one pass of the relay did."""

    sent: int
    claimed: int
    error: Exception | None = None


ProducerFactory = Callable[[], EventProducer]


def _claim_statement(table: str) -> str:
    """Up to $1 unsent rows in id order, locked (others skip them). A row waits for the
    next pass while an earlier unsent row of its key is claimed by another relay."""
    return f"""
        WITH claimed AS (
            SELECT id, key FROM {table} WHERE sent_at IS NULL
             ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
        )
        SELECT row.id, row.topic, row.key, row.value, row.headers
          FROM {table} AS row JOIN claimed ON claimed.id = row.id
         WHERE claimed.key IS NULL OR NOT EXISTS (
               SELECT FROM {table} AS earlier
                WHERE earlier.sent_at IS NULL AND earlier.key = claimed.key
                  AND earlier.id < claimed.id
                  AND earlier.id NOT IN (SELECT id FROM claimed))
         ORDER BY row.id
    """  # noqa: S608


_Failure = tuple[int, Exception]


class OutboxRelay:
    """Publishes a service's outbox to Kafka; a background worker (:meth:`start`,
    :meth:`stop`) of the app. :meth:`publish_pending` runs one pass (tests and tools)."""

    def __init__(
        self,
        database: Database,
        table: Table,
        *,
        bootstrap_servers: str | None = None,
        client_id: str = "pms",
        producer_factory: ProducerFactory | None = None,
        poll_interval_seconds: float = 1.0,
        max_poll_interval_seconds: float = 30.0,
        linger_seconds: float = 0.015,
        batch_size: int = 200,
        parallel_keys: int = 64,
        send_timeout_seconds: float = 30.0,
        backoff_initial_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
        sent_retention: timedelta = timedelta(days=7),
        purge_interval_seconds: float = 600.0,
    ) -> None:
        if producer_factory is None:
            if bootstrap_servers is None:
                raise ValueError("give bootstrap_servers or a producer_factory")
            servers = bootstrap_servers

            def producer_factory() -> EventProducer:
                return EventProducer(servers, client_id=client_id)

        self._database = database
        self._table = table
        self._producer_factory = producer_factory
        self._poll_interval = poll_interval_seconds
        self._max_poll_interval = max(max_poll_interval_seconds, poll_interval_seconds)
        self._linger = linger_seconds
        self._batch_size = batch_size
        self._parallel_keys = parallel_keys
        self._send_timeout = send_timeout_seconds
        self._backoff_initial = backoff_initial_seconds
        self._backoff_max = backoff_max_seconds
        self._purge = RetentionPurge(
            database,
            table,
            key=table.c.id,
            stamp=table.c.sent_at,
            retention=sent_retention,
            interval_seconds=purge_interval_seconds,
            batch_size=10_000,
        )
        self._claim_statement = _claim_statement(table.name)
        self._producer: EventProducer | None = None
        self._listener: asyncpg.Connection | None = None
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.consecutive_failures = 0
        """Passes in a row that failed (broker or database unreachable); 0 when healthy."""

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._table.name}")

    async def stop(self, timeout_seconds: float = 5.0) -> None:
        """Finish the pass in progress (up to ``timeout_seconds``: a reachable broker
        acknowledges in milliseconds), then close. A pass cut short leaves its rows
        unsent for the next start; what the broker already has may then come twice."""
        self._stopping.set()
        self._wakeup.set()
        task, self._task = self._task, None
        if task is not None:
            await asyncio.wait({task}, timeout=timeout_seconds)
            task.cancel()  # nothing happens if it has finished
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_listener()
        await self._discard_producer()

    async def publish_pending(self) -> RelayPass:
        """Claim up to one batch of unsent rows, publish them, mark the acknowledged
        ones sent. A broker failure stops that key's rows (order) and is returned."""
        producer = await self._ready_producer()
        async with self._database.connection() as connection, connection.transaction():
            rows = await self._claim(connection)
            if not rows:
                return RelayPass(sent=0, claimed=0)
            sent, failures = await self._send(producer, rows)
            await self._mark(connection, sent, failures)
        for row_id, error in failures.items():
            _log.warning(
                "outbox publish failed",
                outbox_id=row_id,
                error=f"{type(error).__name__}: {error}",
            )
        first_error = next(iter(failures.values()), None)
        return RelayPass(sent=len(sent), claimed=len(rows), error=first_error)

    async def _run(self) -> None:
        failures = Backoff(self._backoff_initial, self._backoff_max)
        idle = Backoff(self._poll_interval, self._max_poll_interval)
        while not self._stopping.is_set():
            listening = await self._listen()
            self._wakeup.clear()  # before reading, so a notification in between is kept
            try:
                result = await self.publish_pending()
                error = result.error
            except Exception as failure:  # broker or database down: back off, keep rows
                result, error = RelayPass(sent=0, claimed=0), failure
                _log.warning("outbox relay pass failed", error=f"{type(error).__name__}")
            if error is not None:
                self.consecutive_failures += 1
                await self._discard_producer()
                await self._back_off(failures.next_pause())
                continue
            failures.reset()
            self.consecutive_failures = 0
            if result.claimed >= self._batch_size:
                continue  # more may be waiting
            if result.claimed > 1 and self._linger > 0:
                await self._back_off(self._linger)  # events come fast: let the next gather
            await self._purge.run_when_due()
            if result.claimed or not listening:
                idle.reset()  # without LISTEN only polling finds rows: keep it short
            await self._sleep(idle.next_pause())

    async def _claim(self, connection: asyncpg.Connection) -> list[OutboxRow]:
        rows = await connection.fetch(self._claim_statement, self._batch_size)
        return [
            OutboxRow(
                id=row[0],
                topic=row[1],
                key=row[2],
                value=row[3],
                headers=orjson.loads(row[4]) if row[4] else {},
            )
            for row in rows
        ]

    async def _send(
        self, producer: EventProducer, rows: Sequence[OutboxRow]
    ) -> tuple[list[int], dict[int, Exception]]:
        """Publish one lane per key concurrently, each lane in id order; a lane stops at
        its first failure so that no later event of that key overtakes it."""
        lanes: dict[object, list[OutboxRow]] = {}
        for row in rows:
            lanes.setdefault(row.key if row.key is not None else ("row", row.id), []).append(row)
        slots = asyncio.Semaphore(self._parallel_keys)

        async def publish_lane(lane: list[OutboxRow]) -> tuple[list[int], _Failure | None]:
            done: list[int] = []
            for row in lane:
                try:
                    async with slots:
                        await asyncio.wait_for(
                            producer.send(
                                row.topic, key=row.key, value=row.value, headers=row.headers
                            ),
                            self._send_timeout,
                        )
                except Exception as error:
                    return done, (row.id, error)
                done.append(row.id)
            return done, None

        outcomes = await asyncio.gather(*(publish_lane(lane) for lane in lanes.values()))
        sent = sorted(row_id for done, _ in outcomes for row_id in done)
        failures = dict(failure for _, failure in outcomes if failure is not None)
        return sent, failures

    async def _mark(
        self, connection: asyncpg.Connection, sent: Sequence[int], failures: Mapping[int, Exception]
    ) -> None:
        table = self._table.name
        if sent:
            await connection.execute(
                f"UPDATE {table} SET sent_at = now(), attempts = attempts + 1,"  # noqa: S608
                " last_error = NULL WHERE id = ANY($1::bigint[])",
                list(sent),
            )
        for row_id, error in failures.items():
            await connection.execute(
                f"UPDATE {table} SET attempts = attempts + 1, last_error = $2"  # noqa: S608
                " WHERE id = $1",
                row_id,
                f"{type(error).__name__}: {error}"[:500],
            )

    async def _ready_producer(self) -> EventProducer:
        if self._producer is None:
            producer = self._producer_factory()
            try:
                await asyncio.wait_for(producer.start(), self._send_timeout)
            except BaseException:
                with contextlib.suppress(Exception):
                    await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _discard_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _listen(self) -> bool:
        """Open the ``LISTEN`` connection if it is not open; whether it is. Without it
        polling still finds every row, only later."""
        if self._listener is not None and not self._listener.is_closed():
            return True
        await self._close_listener()
        dsn = self._database.engine.url.set(drivername="postgresql")
        try:
            connection = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=5)
            await connection.add_listener(self._table.name, self._on_notify)
        except Exception as error:  # best effort: polling still finds every row
            _log.debug("outbox listen unavailable; polling", error=type(error).__name__)
            return False
        # Notifications sent while it is down are lost: wake up, listen again, look.
        connection.add_termination_listener(self._on_notify)
        self._listener = connection
        return True

    def _on_notify(self, *_args: Any) -> None:
        self._wakeup.set()

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            with contextlib.suppress(Exception):
                await listener.close(timeout=2)

    async def _sleep(self, seconds: float) -> None:
        """Sleep until ``seconds`` pass, a notification arrives, or the relay stops."""
        if self._stopping.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)

    async def _back_off(self, seconds: float) -> None:
        """Sleep ``seconds`` unless the relay stops; new events do not cut it short."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
