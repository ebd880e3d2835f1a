"""The transactional outbox against the real PostgreSQL and Kafka."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import Table, func, select

from pms_platform.db import Database, database_url_for, service_metadata
from pms_platform.outbox import enqueue, outbox_table
from pms_platform.outbox_relay import OutboxRelay
from pms_platform.request_context import bound_request_id
from pms_testing.databases import DatabaseFactory
from pms_testing.kafka import TopicFactory, read_whole_topic
from pms_testing.polling import eventually

pytestmark = pytest.mark.integration

OUTBOX = outbox_table(service_metadata())


@pytest.fixture
async def database(database_factory: DatabaseFactory) -> AsyncIterator[Database]:
    """A fresh database holding only an outbox table."""
    database = Database(await database_factory(None))
    async with database.engine.begin() as connection:
        await connection.run_sync(OUTBOX.metadata.create_all)
    yield database
    await database.dispose()


def relay_for(database: Database, bootstrap_servers: str, **options: object) -> OutboxRelay:
    return OutboxRelay(database, OUTBOX, bootstrap_servers=bootstrap_servers, **options)  # type: ignore[arg-type]


async def add_events(database: Database, topic: str, keys: list[str]) -> list[str]:
    """One committed transaction per event; returns the values, in commit order."""
    values = []
    for n, key in enumerate(keys):
        value = f"{key}:{n}"
        async with database.transaction() as session:
            await enqueue(session, OUTBOX, topic=topic, key=key, value=value.encode())
        values.append(value)
    return values


async def unsent(database: Database, table: Table = OUTBOX) -> int:
    async with database.transaction() as session:
        statement = select(func.count()).select_from(table).where(table.c.sent_at.is_(None))
        return int((await session.execute(statement)).scalar_one())


async def test_a_committed_event_is_published_with_its_headers_and_the_request_id(
    database: Database, kafka_bootstrap_servers: str, kafka_topic_factory: TopicFactory
) -> None:
    topic = await kafka_topic_factory()
    with bound_request_id("req-7"):
        async with database.transaction() as session:
            await enqueue(
                session, OUTBOX, topic=topic, key="k1", value=b"payload", headers={"event_id": "e1"}
            )
    relay = relay_for(database, kafka_bootstrap_servers)

    result = await relay.publish_pending()
    await relay.stop()
    [event] = await read_whole_topic(kafka_bootstrap_servers, topic, 1)

    assert (result.sent, result.error) == (1, None)
    assert (event.key, event.value) == (b"k1", b"payload")
    assert event.headers == {"event_id": "e1", "x-request-id": "req-7"}
    assert await unsent(database) == 0


async def test_an_event_rolled_back_with_its_change_is_never_published(
    database: Database, kafka_bootstrap_servers: str, kafka_topic_factory: TopicFactory
) -> None:
    topic = await kafka_topic_factory()

    async def failed_change() -> None:
        async with database.transaction() as session:
            await enqueue(session, OUTBOX, topic=topic, key="k", value=b"x")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failed_change()
    relay = relay_for(database, kafka_bootstrap_servers)

    result = await relay.publish_pending()
    await relay.stop()

    assert (result.claimed, result.sent) == (0, 0)


async def test_a_notification_wakes_the_relay_long_before_its_poll_interval(
    database: Database, kafka_bootstrap_servers: str, kafka_topic_factory: TopicFactory
) -> None:
    topic = await kafka_topic_factory()
    relay = relay_for(database, kafka_bootstrap_servers, poll_interval_seconds=60.0)
    await relay.start()
    try:
        await asyncio.sleep(0.5)  # the relay's first pass and LISTEN
        await add_events(database, topic, ["k"])

        async def sent() -> bool:
            return await unsent(database) == 0

        await eventually(sent, seconds=5)
    finally:
        await relay.stop()


async def test_two_relays_publish_every_event_once_and_each_key_in_order(
    database: Database, kafka_bootstrap_servers: str, kafka_topic_factory: TopicFactory
) -> None:
    topic = await kafka_topic_factory(partitions=3)
    keys = [f"patient-{n % 5}" for n in range(120)]
    values = await add_events(database, topic, keys)
    relays = [
        relay_for(database, kafka_bootstrap_servers, batch_size=7, poll_interval_seconds=0.05)
        for _ in range(2)
    ]
    for relay in relays:
        await relay.start()
    try:

        async def all_sent() -> bool:
            return await unsent(database) == 0

        await eventually(all_sent)
    finally:
        for relay in relays:
            await relay.stop()
    published = await read_whole_topic(kafka_bootstrap_servers, topic, len(values))

    assert sorted(event.value.decode() for event in published) == sorted(values)
    for key in set(keys):
        on_topic = [e.value.decode() for e in published if e.key == key.encode()]
        assert on_topic == [value for value in values if value.startswith(f"{key}:")]


async def test_a_failed_send_holds_back_later_events_of_its_key_only(
    database: Database, kafka_bootstrap_servers: str, kafka_topic_factory: TopicFactory
) -> None:
    topic = await kafka_topic_factory()
    missing_topic = f"missing-{uuid.uuid4().hex}"  # the broker refuses to create topics
    async with database.transaction() as session:
        await enqueue(session, OUTBOX, topic=missing_topic, key="a", value=b"a1")
        await enqueue(session, OUTBOX, topic=topic, key="a", value=b"a2")
        await enqueue(session, OUTBOX, topic=topic, key="b", value=b"b1")
    relay = relay_for(database, kafka_bootstrap_servers, send_timeout_seconds=1.0)

    result = await relay.publish_pending()
    await relay.stop()
    [event] = await read_whole_topic(kafka_bootstrap_servers, topic, 1)

    assert (result.claimed, result.sent) == (3, 1)
    assert result.error is not None
    assert event.value == b"b1"
    async with database.transaction() as session:
        rows = await session.execute(
            select(
                OUTBOX.c.value,
                OUTBOX.c.sent_at.is_not(None),
                OUTBOX.c.attempts,
                OUTBOX.c.last_error,
            ).order_by(OUTBOX.c.id)
        )
        states = [
            (value, sent, attempts, error is not None) for value, sent, attempts, error in rows
        ]
    assert states == [(b"a1", False, 1, True), (b"a2", False, 0, False), (b"b1", True, 1, False)]


async def test_events_wait_while_the_broker_is_unreachable_and_go_out_once_it_is_back(
    database: Database, kafka_bootstrap_servers: str, kafka_topic_factory: TopicFactory
) -> None:
    topic = await kafka_topic_factory()
    values = await add_events(database, topic, ["k"] * 5)
    unreachable = relay_for(database, "127.0.0.1:1", backoff_initial_seconds=0.05)
    await unreachable.start()

    async def failing() -> bool:
        return unreachable.consecutive_failures >= 3

    await eventually(failing)
    await unreachable.stop()
    assert await unsent(database) == 5

    back = relay_for(database, kafka_bootstrap_servers)
    result = await back.publish_pending()
    await back.stop()
    published = await read_whole_topic(kafka_bootstrap_servers, topic, 5)

    assert result.sent == 5
    assert [event.value.decode() for event in published] == values


# How the relay wakes up: on NOTIFY, and otherwise rarely (its idle cost is near zero).

AN_HOUR = 3600.0


async def admin_fetchval(postgres_url: str, query: str, *args: object) -> object:
    """A value read on the server's ``postgres`` database, so that it is no transaction of
    the database under test."""
    connection = await asyncpg.connect(database_url_for(postgres_url, "postgres", "postgresql"))
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


def name_of(database: Database) -> str:
    return str(database.engine.url.database)


async def wait_until_listening(postgres_url: str, database: Database) -> None:
    async def listening() -> bool:
        found = await admin_fetchval(
            postgres_url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'",
            name_of(database),
        )
        return found == 1

    await eventually(listening, description="the relay's LISTEN")


async def wait_until_all_sent(database: Database, description: str) -> None:
    async def all_sent() -> bool:
        return await unsent(database) == 0

    await eventually(all_sent, description=description)


async def listening_relay(
    database: Database, postgres_url: str, bootstrap_servers: str, **options: object
) -> OutboxRelay:
    """A started relay, listening, with an hour between its safety looks: what it
    publishes soon, it published because it was notified."""
    relay = relay_for(
        database,
        bootstrap_servers,
        poll_interval_seconds=AN_HOUR,
        max_poll_interval_seconds=AN_HOUR,
        **options,
    )
    await relay.start()
    try:
        await wait_until_listening(postgres_url, database)
    except BaseException:
        await relay.stop()
        raise
    return relay


async def test_a_notification_publishes_a_new_row_with_an_hour_between_safety_looks(
    database: Database,
    postgres_url: str,
    kafka_bootstrap_servers: str,
    kafka_topic_factory: TopicFactory,
) -> None:
    topic = await kafka_topic_factory()
    relay = await listening_relay(database, postgres_url, kafka_bootstrap_servers)
    try:
        await add_events(database, topic, ["k"])
        await wait_until_all_sent(database, "the notified row published")
    finally:
        await relay.stop()
    [event] = await read_whole_topic(kafka_bootstrap_servers, topic, 1)
    assert event.value == b"k:0"


async def test_events_committed_while_the_relay_lingers_leave_together_in_one_pass(
    database: Database,
    postgres_url: str,
    kafka_bootstrap_servers: str,
    kafka_topic_factory: TopicFactory,
) -> None:
    """After a pass that published two events, the relay waits: three events committed
    100 ms apart meanwhile are claimed and marked in one transaction (one ``sent_at``).
    Without the wait, each notification runs a pass of its own."""
    topic = await kafka_topic_factory()
    relay = await listening_relay(database, postgres_url, kafka_bootstrap_servers, linger_seconds=3)
    try:
        async with database.transaction() as session:  # one commit: one pass takes both
            for key in ("first", "second"):
                await enqueue(session, OUTBOX, topic=topic, key=key, value=key.encode())
        await wait_until_all_sent(database, "the first two rows published")
        for key in ("b", "c", "d"):
            await add_events(database, topic, [key])
            await asyncio.sleep(0.1)
        await wait_until_all_sent(database, "the rows of the linger published")
    finally:
        await relay.stop()
    async with database.transaction() as session:
        stamps = (await session.execute(select(OUTBOX.c.key, OUTBOX.c.sent_at))).all()
    sent_at = dict(stamps)
    assert sent_at["first"] == sent_at["second"]
    assert sent_at["b"] == sent_at["c"] == sent_at["d"] != sent_at["first"]
    events = await read_whole_topic(kafka_bootstrap_servers, topic, 5)
    assert [event.key for event in events] == [b"first", b"second", b"b", b"c", b"d"]


async def test_the_first_event_after_a_quiet_spell_and_each_lone_one_after_it_go_at_once(
    database: Database,
    postgres_url: str,
    kafka_bootstrap_servers: str,
    kafka_topic_factory: TopicFactory,
) -> None:
    """The linger (here an hour) follows a pass, it does not precede one, and a pass that
    published a single event does not linger at all (light load)."""
    topic = await kafka_topic_factory()
    relay = await listening_relay(
        database, postgres_url, kafka_bootstrap_servers, linger_seconds=AN_HOUR
    )
    try:
        for key in ("one", "two", "three"):
            await add_events(database, topic, [key])
            await wait_until_all_sent(database, f"the lone row {key!r} published at once")
    finally:
        await relay.stop()
    events = await read_whole_topic(kafka_bootstrap_servers, topic, 3)
    assert [event.key for event in events] == [b"one", b"two", b"three"]


async def test_a_lost_listen_connection_is_opened_again_and_what_came_meanwhile_goes_out(
    database: Database,
    postgres_url: str,
    kafka_bootstrap_servers: str,
    kafka_topic_factory: TopicFactory,
) -> None:
    topic = await kafka_topic_factory()
    relay = await listening_relay(database, postgres_url, kafka_bootstrap_servers)
    try:
        await admin_fetchval(
            postgres_url,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND query LIKE 'LISTEN%'",
            name_of(database),
        )
        await add_events(database, topic, ["k"])  # its NOTIFY may reach no listener
        await wait_until_all_sent(database, "the row published after the LISTEN was lost")
        await wait_until_listening(postgres_url, database)
    finally:
        await relay.stop()


async def test_an_idle_relay_issues_almost_no_queries(
    database: Database, postgres_url: str, kafka_bootstrap_servers: str
) -> None:
    """With a 50 ms first safety look (a fixed 50 ms poll: 120 passes, 120 scans or more
    in the window), the looks back off: over 6 idle seconds, a pass or two. Counted as the
    scans of the outbox table the server records (every pass reads it; autovacuum, which
    also works in a new database, does not count there). The server may count a backend's
    scans up to 10 s late, so a few of the first passes can land in the window too."""

    async def outbox_scans() -> int:
        async with database.connection() as connection:
            found = await connection.fetchval(
                "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0)"
                " FROM pg_stat_user_tables WHERE relname = $1",
                OUTBOX.name,
            )
        return int(found)

    relay = relay_for(
        database,
        kafka_bootstrap_servers,
        poll_interval_seconds=0.05,
        max_poll_interval_seconds=AN_HOUR,
    )
    await relay.start()
    try:
        await wait_until_listening(postgres_url, database)
        await asyncio.sleep(4)  # the first looks, at 0.05, 0.15, 0.35 ... 3.15 s
        before = await outbox_scans()
        await asyncio.sleep(6)
        after = await outbox_scans()
    finally:
        await relay.stop()

    assert after - before <= 10
