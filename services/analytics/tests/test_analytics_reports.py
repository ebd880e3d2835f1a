"""Every aggregate and report from a known sequence of real events on real topics."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from pms_analytics.age_bands import years_before
from pms_platform.kafka import EventProducer
from pms_testing.polling import eventually

from .conftest import Analytics, at, billing_event, original_patient_event, patient_event

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()


def aged(years: int) -> date:
    """A birth date of someone ``years`` old today, well away from their birthday."""
    return years_before(TODAY, years) - timedelta(days=100)


@pytest.fixture
async def known_sequence(analytics: Analytics, producer: EventProducer) -> Analytics:
    """Five patients (one from the original producer, one deleted, one whose birth date
    was corrected) and two accounts with three invoices; returns when all are applied."""
    topics = analytics.topics
    p1, p2, p3, p4, p5 = (str(uuid.uuid4()) for _ in range(5))
    patients = [
        patient_event(
            p1,
            "PATIENT_CREATED",
            occurred=at("2026-01-05"),
            born=aged(10),
            registered=date(2026, 1, 5),
        ),
        patient_event(
            p2,
            "PATIENT_CREATED",
            occurred=at("2026-01-07"),
            born=aged(30),
            registered=date(2026, 1, 6),
        ),
        patient_event(
            p3,
            "PATIENT_CREATED",
            occurred=at("2026-02-02"),
            born=aged(40),
            registered=date(2026, 2, 2),
        ),
        patient_event(
            p4,
            "PATIENT_CREATED",
            occurred=at("2026-02-03"),
            born=aged(70),
            registered=date(2026, 2, 3),
        ),
        patient_event(
            p2,
            "PATIENT_UPDATED",
            occurred=at("2026-03-01"),
            born=aged(55),
            registered=date(2026, 1, 6),
        ),
        patient_event(p3, "PATIENT_DELETED", occurred=at("2026-03-02"), born=aged(40)),
        original_patient_event(p5, "PATIENT_CREATED"),
    ]
    for event in patients:
        await producer.send(topics.patient, key=event.patientId, value=event)
    i1, i2, i3 = (str(uuid.uuid4()) for _ in range(3))
    bills = [
        billing_event("ACCOUNT_CREATED", patient_id=p1, occurred=at("2026-01-05")),
        billing_event("ACCOUNT_CREATED", patient_id=p3, occurred=at("2026-02-02")),
        billing_event(
            "INVOICE_ISSUED",
            patient_id=p1,
            occurred=at("2026-01-05"),
            amount_minor=1000,
            currency="GBP",
            invoice_id=i1,
        ),
        billing_event(
            "INVOICE_ISSUED",
            patient_id=p1,
            occurred=at("2026-01-06"),
            amount_minor=500,
            currency="GBP",
            invoice_id=i2,
        ),
        billing_event(
            "INVOICE_VOIDED",
            patient_id=p1,
            occurred=at("2026-01-07"),
            amount_minor=500,
            currency="GBP",
            invoice_id=i2,
        ),
        billing_event(
            "INVOICE_PAID",
            patient_id=p1,
            occurred=at("2026-01-12"),
            amount_minor=1000,
            currency="GBP",
            invoice_id=i1,
        ),
        billing_event(
            "INVOICE_ISSUED",
            patient_id=p3,
            occurred=at("2026-02-01"),
            amount_minor=2500,
            currency="EUR",
            invoice_id=i3,
        ),
        billing_event("ACCOUNT_CLOSED", patient_id=p3, occurred=at("2026-03-02")),
    ]
    for bill in bills:
        await producer.send(topics.billing, key=bill.patient_id, value=bill)
    await analytics.wait_for_processed(len(patients) + len(bills))
    return analytics


def figures(**given: int) -> dict[str, int]:
    names = ("issuedCount", "issuedMinor", "paidCount", "paidMinor", "voidedCount", "voidedMinor")
    return {name: given.get(name, 0) for name in names}


async def test_the_summary_counts_patients_accounts_invoices_and_amounts(
    known_sequence: Analytics,
) -> None:
    assert await known_sequence.summary() == {
        "patients": {"active": 4, "created": 5, "updated": 1, "deleted": 1},
        "billing": {
            "accountsOpen": 1,
            "accountsClosed": 1,
            "invoicesIssued": 3,
            "invoicesPaid": 1,
            "invoicesVoided": 1,
            "amounts": [
                {"currency": "EUR", **figures(issuedCount=1, issuedMinor=2500)},
                {
                    "currency": "GBP",
                    **figures(
                        issuedCount=2,
                        issuedMinor=1500,
                        paidCount=1,
                        paidMinor=1000,
                        voidedCount=1,
                        voidedMinor=500,
                    ),
                },
            ],
        },
    }


async def test_registrations_per_day_by_registered_date_and_by_event_date(
    known_sequence: Analytics,
) -> None:
    range_ = {"from": "2026-01-05", "to": "2026-01-07"}
    by_registered = await known_sequence.get("/analytics/registrations", **range_)
    by_event = await known_sequence.get("/analytics/registrations", **range_, by="event")

    assert by_registered == {
        "from": "2026-01-05",
        "to": "2026-01-07",
        "granularity": "day",
        "by": "registered",
        "total": 2,
        "buckets": [
            {"start": "2026-01-05", "end": "2026-01-05", "count": 1},
            {"start": "2026-01-06", "end": "2026-01-06", "count": 1},
            {"start": "2026-01-07", "end": "2026-01-07", "count": 0},
        ],
    }
    assert by_event["by"] == "event"
    assert [bucket["count"] for bucket in by_event["buckets"]] == [1, 0, 1]


async def test_registrations_per_week_and_per_month_count_deleted_patients_too(
    known_sequence: Analytics,
) -> None:
    weekly = await known_sequence.get(
        "/analytics/registrations",
        **{"from": "2026-01-01", "to": "2026-02-08"},
        granularity="week",
    )
    monthly = await known_sequence.get(
        "/analytics/registrations",
        **{"from": "2026-01-01", "to": "2026-03-31"},
        granularity="month",
    )

    assert [(b["start"], b["end"], b["count"]) for b in weekly["buckets"]] == [
        ("2025-12-29", "2026-01-04", 0),
        ("2026-01-05", "2026-01-11", 2),
        ("2026-01-12", "2026-01-18", 0),
        ("2026-01-19", "2026-01-25", 0),
        ("2026-01-26", "2026-02-01", 0),
        ("2026-02-02", "2026-02-08", 2),
    ]
    assert monthly["total"] == 4
    assert [(b["start"], b["end"], b["count"]) for b in monthly["buckets"]] == [
        ("2026-01-01", "2026-01-31", 2),
        ("2026-02-01", "2026-02-28", 2),
        ("2026-03-01", "2026-03-31", 0),
    ]


async def test_an_original_event_without_dates_is_registered_by_its_record_time(
    known_sequence: Analytics,
) -> None:
    today = await known_sequence.get(
        "/analytics/registrations", **{"from": str(TODAY), "to": str(TODAY)}, by="event"
    )
    registered = await known_sequence.get(
        "/analytics/registrations", **{"from": str(TODAY), "to": str(TODAY)}
    )

    assert today["total"] == 1  # the original-format creation, dated by its record
    assert registered["total"] == 0  # it has no registered date


async def test_demographics_count_active_patients_per_age_band_from_their_latest_birth_date(
    known_sequence: Analytics,
) -> None:
    assert await known_sequence.get("/analytics/demographics") == {
        "asOf": str(TODAY),
        "activePatients": 4,
        "ageBands": [
            {"band": "0-17", "minAge": 0, "maxAge": 17, "count": 1},
            {"band": "18-34", "minAge": 18, "maxAge": 34, "count": 0},  # p2 corrected to 55
            {"band": "35-49", "minAge": 35, "maxAge": 49, "count": 0},  # p3 deleted
            {"band": "50-64", "minAge": 50, "maxAge": 64, "count": 1},
            {"band": "65+", "minAge": 65, "maxAge": None, "count": 1},
        ],
        "unknownAge": 1,  # p5, from the original producer
    }


async def test_revenue_per_week_for_one_currency(known_sequence: Analytics) -> None:
    revenue = await known_sequence.get(
        "/analytics/revenue",
        **{"from": "2026-01-01", "to": "2026-01-18"},
        granularity="week",
        currency="GBP",
    )

    assert revenue == {
        "from": "2026-01-01",
        "to": "2026-01-18",
        "granularity": "week",
        "currency": "GBP",
        "currencies": [
            {
                "currency": "GBP",
                **figures(
                    issuedCount=2,
                    issuedMinor=1500,
                    paidCount=1,
                    paidMinor=1000,
                    voidedCount=1,
                    voidedMinor=500,
                ),
                "buckets": [
                    {"start": "2025-12-29", "end": "2026-01-04", **figures()},
                    {
                        "start": "2026-01-05",
                        "end": "2026-01-11",
                        **figures(issuedCount=2, issuedMinor=1500, voidedCount=1, voidedMinor=500),
                    },
                    {
                        "start": "2026-01-12",
                        "end": "2026-01-18",
                        **figures(paidCount=1, paidMinor=1000),
                    },
                ],
            }
        ],
    }


async def test_revenue_per_month_for_every_currency_and_a_currency_without_invoices(
    known_sequence: Analytics,
) -> None:
    everything = await known_sequence.get(
        "/analytics/revenue", **{"from": "2026-01-01", "to": "2026-02-28"}, granularity="month"
    )
    none = await known_sequence.get(
        "/analytics/revenue",
        **{"from": "2026-01-01", "to": "2026-02-28"},
        currency="USD",
        granularity="month",
    )

    def monthly(currency: dict[str, Any]) -> list[tuple[str, int, int]]:
        return [(b["start"], b["issuedMinor"], b["paidMinor"]) for b in currency["buckets"]]

    assert [currency["currency"] for currency in everything["currencies"]] == ["EUR", "GBP"]
    assert everything["currency"] is None
    assert monthly(everything["currencies"][0]) == [("2026-01-01", 0, 0), ("2026-02-01", 2500, 0)]
    assert monthly(everything["currencies"][1]) == [
        ("2026-01-01", 1500, 1000),
        ("2026-02-01", 0, 0),
    ]
    assert none["currencies"] == [
        {
            "currency": "USD",
            **figures(),
            "buckets": [
                {"start": "2026-01-01", "end": "2026-01-31", **figures()},
                {"start": "2026-02-01", "end": "2026-02-28", **figures()},
            ],
        }
    ]


async def test_an_empty_service_answers_zeros(analytics: Analytics) -> None:
    async def answers() -> bool:
        return (await analytics.http.get("/health/ready")).status_code == 200

    await eventually(answers, 30.0)
    assert await analytics.summary() == {
        "patients": {"active": 0, "created": 0, "updated": 0, "deleted": 0},
        "billing": {
            "accountsOpen": 0,
            "accountsClosed": 0,
            "invoicesIssued": 0,
            "invoicesPaid": 0,
            "invoicesVoided": 0,
            "amounts": [],
        },
    }
    demographics = await analytics.get("/analytics/demographics")
    assert [band["count"] for band in demographics["ageBands"]] == [0, 0, 0, 0, 0]
