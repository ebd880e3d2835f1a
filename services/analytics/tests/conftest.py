"""A running analytics service per test: its own migrated database, private topics and
consumer group, the HTTP app in-process with tokens from the test minter, and builders
of the real protobuf events it consumes."""

import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf.timestamp_pb2 import Timestamp
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from pms_analytics.aggregates import AnalyticsChange
from pms_analytics.app import create_app
from pms_analytics.handlers import analytics_consumer
from pms_analytics.models import MIGRATIONS_DIR, processed_events
from pms_analytics.service import AnalyticsService
from pms_analytics.settings import AnalyticsSettings
from pms_contracts.billing_event_pb2 import BillingEvent
from pms_contracts.patient_event_pb2 import PatientEvent
from pms_platform.db import Database
from pms_platform.event_consumer import IdempotentConsumer
from pms_platform.kafka import EventProducer
from pms_platform.security import Role
from pms_testing.databases import DatabaseFactory
from pms_testing.http import app_client
from pms_testing.kafka import TopicFactory
from pms_testing.polling import eventually
from pms_testing.tokens import TokenMinter


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def patient_event(
    patient_id: str,
    event_type: str,
    *,
    occurred: datetime | None = None,
    born: date | None = None,
    registered: date | None = None,
    event_id: str | None = None,
) -> PatientEvent:
    """An event as the patients service publishes it (a new event id unless given)."""
    return PatientEvent(
        patientId=patient_id,
        name="Jane Roe",
        email="jane.roe@example.com",
        event_type=event_type,
        event_id=event_id or str(uuid.uuid4()),
        occurred_at=timestamp(occurred or datetime.now(UTC)),
        address="1 Test Street",
        date_of_birth=born.isoformat() if born else "",
        registered_date=registered.isoformat() if registered else "",
    )


def original_patient_event(patient_id: str, event_type: str) -> PatientEvent:
    """An event of the original Java producer: fields 1-4 only."""
    return PatientEvent(
        patientId=patient_id, name="John Doe", email="john@example.com", event_type=event_type
    )


def billing_event(
    event_type: str,
    *,
    patient_id: str | None = None,
    occurred: datetime | None = None,
    amount_minor: int = 0,
    currency: str = "",
    invoice_id: str = "",
    event_id: str | None = None,
) -> BillingEvent:
    return BillingEvent(
        event_id=event_id or str(uuid.uuid4()),
        event_type=event_type,
        occurred_at=timestamp(occurred or datetime.now(UTC)),
        account_id=str(uuid.uuid4()),
        patient_id=patient_id or str(uuid.uuid4()),
        invoice_id=invoice_id,
        amount_minor=amount_minor,
        currency=currency,
    )


@dataclass
class Workload:
    """Patients created, some updated (a new birth date) and some deleted, each with an
    account and invoices; the totals any correct consumer must end with."""

    patient_events: list[PatientEvent]
    billing_events: list[BillingEvent]
    expected: dict[str, Any]

    @property
    def size(self) -> int:
        return len(self.patient_events) + len(self.billing_events)

    async def publish(self, producer: EventProducer, topics: "Topics") -> None:
        for event in self.patient_events:
            await producer.send(topics.patient, key=event.patientId, value=event)
        for bill in self.billing_events:
            await producer.send(topics.billing, key=bill.patient_id, value=bill)


def workload(patients: int, seed: int) -> Workload:
    chance = random.Random(seed)
    events: list[PatientEvent] = []
    bills: list[BillingEvent] = []
    counts = dict.fromkeys(("updated", "deleted", "issued", "paid", "voided", "closed"), 0)
    minor = {"issued": 0, "paid": 0}
    for number in range(patients):
        patient_id = str(uuid.uuid4())
        moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=7 * number)
        born = date(1930, 1, 1) + timedelta(days=chance.randrange(33_000))
        events.append(
            patient_event(
                patient_id,
                "PATIENT_CREATED",
                occurred=moment,
                born=born,
                registered=moment.date(),
            )
        )
        bills.append(billing_event("ACCOUNT_CREATED", patient_id=patient_id, occurred=moment))
        amount = chance.randrange(100, 10_000)
        bills.append(
            billing_event(
                "INVOICE_ISSUED",
                patient_id=patient_id,
                occurred=moment,
                amount_minor=amount,
                currency="GBP",
            )
        )
        counts["issued"] += 1
        minor["issued"] += amount
        outcome = chance.choice(["paid", "voided", "open"])
        if outcome != "open":
            bills.append(
                billing_event(
                    f"INVOICE_{outcome.upper()}",
                    patient_id=patient_id,
                    occurred=moment + timedelta(days=3),
                    amount_minor=amount,
                    currency="GBP",
                )
            )
            counts[outcome] += 1
            minor["paid"] += amount if outcome == "paid" else 0
        if chance.random() < 0.3:
            events.append(
                patient_event(
                    patient_id,
                    "PATIENT_UPDATED",
                    occurred=moment + timedelta(hours=1),
                    born=born + timedelta(days=400),
                    registered=moment.date(),
                )
            )
            counts["updated"] += 1
        if chance.random() < 0.2:
            events.append(
                patient_event(patient_id, "PATIENT_DELETED", occurred=moment + timedelta(hours=2))
            )
            bills.append(
                billing_event(
                    "ACCOUNT_CLOSED", patient_id=patient_id, occurred=moment + timedelta(hours=2)
                )
            )
            counts["deleted"] += 1
            counts["closed"] += 1
    expected = {
        "patients": {
            "active": patients - counts["deleted"],
            "created": patients,
            "updated": counts["updated"],
            "deleted": counts["deleted"],
        },
        "accountsOpen": patients - counts["closed"],
        "invoices": (counts["issued"], counts["paid"], counts["voided"]),
        "minor": (minor["issued"], minor["paid"]),
    }
    return Workload(events, bills, expected)


def totals_of(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary in the shape of :attr:`Workload.expected`."""
    billing = summary["billing"]
    gbp: dict[str, int] = next((a for a in billing["amounts"] if a["currency"] == "GBP"), {})
    return {
        "patients": summary["patients"],
        "accountsOpen": billing["accountsOpen"],
        "invoices": (billing["invoicesIssued"], billing["invoicesPaid"], billing["invoicesVoided"]),
        "minor": (gbp.get("issuedMinor", 0), gbp.get("paidMinor", 0)),
    }


@dataclass
class Topics:
    patient: str
    billing: str
    patient_dead_letters: str
    billing_dead_letters: str
    group: str

    def settings(self) -> dict[str, str]:
        return {
            "patient_topic": self.patient,
            "billing_topic": self.billing,
            "patient_dead_letter_topic": self.patient_dead_letters,
            "billing_dead_letter_topic": self.billing_dead_letters,
            "consumer_group": self.group,
        }


TopicSet = Callable[..., Awaitable[Topics]]


@pytest.fixture
async def topic_set(kafka_topic_factory: TopicFactory) -> TopicSet:
    """Makes private topics (``partitions`` each for patient and billing) and a group."""

    async def make(partitions: int = 1) -> Topics:
        return Topics(
            patient=await kafka_topic_factory(partitions=partitions),
            billing=await kafka_topic_factory(partitions=partitions),
            patient_dead_letters=await kafka_topic_factory(),
            billing_dead_letters=await kafka_topic_factory(),
            group=f"analytics-test-{uuid.uuid4().hex[:12]}",
        )

    return make


@pytest.fixture
async def topics(topic_set: TopicSet) -> Topics:
    return await topic_set()


@pytest.fixture
async def producer(kafka_bootstrap_servers: str) -> AsyncIterator[EventProducer]:
    async with EventProducer(kafka_bootstrap_servers) as producer:
        yield producer


@dataclass
class Analytics:
    """One running analytics service and handles on it."""

    settings: AnalyticsSettings
    app: FastAPI
    http: httpx.AsyncClient
    database: Database  # for the tests' own reads
    minter: TokenMinter
    topics: Topics

    def auth(self, role: Role | None = Role.ANALYST) -> dict[str, str]:
        return self.minter.authorization(role)

    async def get(self, path: str, **params: str) -> dict[str, Any]:
        response = await self.http.get(path, params=params, headers=self.auth())
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def summary(self) -> dict[str, Any]:
        return await self.get("/analytics/summary")

    async def reports(self) -> dict[str, Any]:
        """Every report over the workloads' year, to compare two services' numbers."""
        year = {"from": "2026-01-01", "to": "2026-12-31", "granularity": "month"}
        return {
            "summary": await self.summary(),
            "demographics": await self.get("/analytics/demographics"),
            "registered": await self.get("/analytics/registrations", **year),
            "created": await self.get("/analytics/registrations", **year, by="event"),
            "revenue": await self.get("/analytics/revenue", **year),
        }

    async def processed_count(self) -> int:
        return await processed_count(self.database)

    async def wait_for_processed(self, count: int, seconds: float = 30.0) -> None:
        """Until ``count`` event keys are recorded (dead letters record none)."""

        async def reached() -> bool:
            return await self.processed_count() >= count

        await eventually(reached, seconds)

    def consumer(self, group: str | None = None) -> IdempotentConsumer[AnalyticsChange]:
        """Another consumer on the same database and topics (another instance)."""
        return analytics_consumer(
            self.database,
            self.settings,
            service=AnalyticsService(),
            metrics_registry=CollectorRegistry(),
            group_id=group,
        )


AnalyticsFactory = Callable[..., AbstractAsyncContextManager[Analytics]]


@pytest.fixture
def analytics_factory(
    database_factory: DatabaseFactory,
    token_minter: TokenMinter,
    kafka_bootstrap_servers: str,
    topics: Topics,
) -> AnalyticsFactory:
    """Start an analytics service on the private topics (or those given as ``on``),
    settings overridden by keyword arguments (its consumer runs unless
    ``background_workers=False``)."""

    @asynccontextmanager
    async def start(on: Topics | None = None, **overrides: Any) -> AsyncIterator[Analytics]:
        chosen = on or topics
        values: dict[str, Any] = {
            "database_url": await database_factory(MIGRATIONS_DIR),
            "kafka_bootstrap_servers": kafka_bootstrap_servers,
            "environment": "test",
            **chosen.settings(),
            **overrides,
        }
        settings = AnalyticsSettings(**values)
        app = create_app(settings, token_verifier=token_minter.verifier())
        database = Database(settings.database_url)
        try:
            async with app_client(app) as http:
                yield Analytics(settings, app, http, database, token_minter, chosen)
        finally:
            await database.dispose()

    return start


@pytest.fixture
async def analytics(analytics_factory: AnalyticsFactory) -> AsyncIterator[Analytics]:
    async with analytics_factory() as running:
        yield running


async def processed_count(database: Database) -> int:
    async with database.transaction() as session:
        return int(
            (await session.execute(select(func.count()).select_from(processed_events))).scalar_one()
        )
