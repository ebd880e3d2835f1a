"""All of the analytics service's SQL: ``AggregateWriter`` (the counters and the
per-patient state, moved by each change, on the consumer's plain asyncpg connection),
``empty_all`` (the rebuild's emptying), ``ReportReader`` (the reports, which read the
aggregate tables only) and ``SummaryReader`` (the summary, which dashboards poll: plain
asyncpg, no ORM, no transaction of its own).

Writers add to counters with ``INSERT ... ON CONFLICT DO UPDATE SET n = n + delta``, all
counter tables in one statement per event (or per batch of events), rows in sorted
order: concurrent consumers then lock shared rows in the same order and cannot deadlock
each other.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import asyncpg
from sqlalchemy import case, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pms_analytics.age_bands import AGE_BANDS, band_thresholds
from pms_analytics.aggregates import (
    InvoiceAmount,
    PatientSnapshot,
    RegistrationBasis,
    TotalName,
)
from pms_analytics.models import (
    AGGREGATE_TABLE_NAMES,
    ActiveBirthDate,
    DailyBilling,
    DailyRegistrations,
    Total,
    processed_events,
)
from pms_platform.plain_sql import PlainStatement

_FIGURES = (
    "issued_count",
    "issued_minor",
    "paid_count",
    "paid_minor",
    "voided_count",
    "voided_minor",
)


@dataclass(frozen=True)
class CountChanges:
    """What to add to the counters (negative to take away)."""

    totals: Mapping[TotalName, int] = field(default_factory=dict)
    registrations: Mapping[tuple[RegistrationBasis, date], int] = field(default_factory=dict)
    active_birth_dates: Mapping[date, int] = field(default_factory=dict)
    invoices: Sequence[InvoiceAmount] = ()


# Each counter table gets its rows from arrays (empty ones add nothing), so the text is
# the same for every event: prepared once per connection. Rows are sorted by the caller
# and the tables always come in this order, so concurrent consumers lock shared rows in
# one order and cannot deadlock each other.
_ADD_COUNTS = PlainStatement.of(
    text(
        """
    WITH registrations AS (
        INSERT INTO daily_registrations AS r (basis, day, count)
        SELECT * FROM unnest(
            CAST(:registration_bases AS varchar[]),
            CAST(:registration_days AS date[]),
            CAST(:registration_deltas AS bigint[]))
        ON CONFLICT (basis, day) DO UPDATE SET count = r.count + excluded.count
    ), birth_dates AS (
        INSERT INTO active_birth_dates AS b (date_of_birth, count)
        SELECT * FROM unnest(CAST(:birth_dates AS date[]), CAST(:birth_date_deltas AS bigint[]))
        ON CONFLICT (date_of_birth) DO UPDATE SET count = b.count + excluded.count
    ), invoices AS (
        INSERT INTO daily_billing AS d (day, currency, issued_count, issued_minor,
                                        paid_count, paid_minor, voided_count, voided_minor)
        SELECT * FROM unnest(
            CAST(:invoice_days AS date[]), CAST(:invoice_currencies AS varchar[]),
            CAST(:issued_count AS bigint[]), CAST(:issued_minor AS bigint[]),
            CAST(:paid_count AS bigint[]), CAST(:paid_minor AS bigint[]),
            CAST(:voided_count AS bigint[]), CAST(:voided_minor AS bigint[]))
        ON CONFLICT (day, currency) DO UPDATE SET
            issued_count = d.issued_count + excluded.issued_count,
            issued_minor = d.issued_minor + excluded.issued_minor,
            paid_count = d.paid_count + excluded.paid_count,
            paid_minor = d.paid_minor + excluded.paid_minor,
            voided_count = d.voided_count + excluded.voided_count,
            voided_minor = d.voided_minor + excluded.voided_minor
    )
    INSERT INTO totals AS t (name, value)
    SELECT * FROM unnest(CAST(:total_names AS varchar[]), CAST(:total_deltas AS bigint[]))
    ON CONFLICT (name) DO UPDATE SET value = t.value + excluded.value
    """
    )
)


_PATIENTS_FOR_UPDATE = PlainStatement.of(
    text(
        """
    SELECT patient_id, active, date_of_birth, registered_date, last_event_at
      FROM patient_states WHERE patient_id = ANY(CAST(:ids AS uuid[]))
     ORDER BY patient_id FOR UPDATE
    """
    )
)
_PATIENT_ROWS = """unnest(
        CAST(:ids AS uuid[]), CAST(:active AS boolean[]), CAST(:dates_of_birth AS date[]),
        CAST(:registered_dates AS date[]), CAST(:last_event_ats AS timestamptz[]))"""
_INSERT_PATIENTS = PlainStatement.of(
    text(
        f"""
    INSERT INTO patient_states (patient_id, active, date_of_birth, registered_date,
                                last_event_at)
    SELECT * FROM {_PATIENT_ROWS}
    """  # noqa: S608
    )
)
_UPDATE_PATIENTS = PlainStatement.of(
    text(
        f"""
    UPDATE patient_states AS p
       SET active = u.active, date_of_birth = u.date_of_birth,
           registered_date = u.registered_date, last_event_at = u.last_event_at
      FROM {_PATIENT_ROWS}
        AS u(patient_id, active, date_of_birth, registered_date, last_event_at)
     WHERE p.patient_id = u.patient_id
    """  # noqa: S608
    )
)


class AggregateWriter:
    """The write side, used by the service in the consumer's transaction, on its plain
    connection (the statements are compiled once for asyncpg: no ORM on this path)."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def patients_for_update(
        self, patient_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, PatientSnapshot]:
        """The states of those of ``patient_ids`` known, locked until the transaction
        ends, in id order (so two consumers lock shared rows in one order)."""
        rows = await self.connection.fetch(_PATIENTS_FOR_UPDATE.sql, sorted(patient_ids))
        return {row[0]: PatientSnapshot(*row[1:]) for row in rows}

    async def save_patients(
        self,
        new: Mapping[uuid.UUID, PatientSnapshot],
        known: Mapping[uuid.UUID, PatientSnapshot],
    ) -> None:
        """Write the states: ``new`` rows by plain INSERT, so that a concurrent first event
        for one of them fails (and is retried) instead of being miscounted; ``known`` ones
        updated; one statement each."""
        for statement, states in ((_INSERT_PATIENTS, new), (_UPDATE_PATIENTS, known)):
            if states:
                rows = sorted(states.items())
                await self._run(
                    statement,
                    {
                        "ids": [patient_id for patient_id, _ in rows],
                        "active": [state.active for _, state in rows],
                        "dates_of_birth": [state.date_of_birth for _, state in rows],
                        "registered_dates": [state.registered_date for _, state in rows],
                        "last_event_ats": [state.last_event_at for _, state in rows],
                    },
                )

    async def add_counts(self, counts: CountChanges) -> None:
        """Add to every counter an event (or a batch) moves, in one statement."""
        registrations = sorted(counts.registrations.items())
        birth_dates = sorted(counts.active_birth_dates.items())
        totals = sorted(counts.totals.items())
        per_day: dict[tuple[date, str], dict[str, int]] = {}
        for invoice in counts.invoices:
            figures = per_day.setdefault(
                (invoice.day, invoice.currency), dict.fromkeys(_FIGURES, 0)
            )
            figures[f"{invoice.figure}_count"] += 1
            figures[f"{invoice.figure}_minor"] += invoice.amount_minor
        invoice_rows = sorted(per_day.items())
        await self._run(
            _ADD_COUNTS,
            {
                "total_names": [str(name) for name, _ in totals],
                "total_deltas": [delta for _, delta in totals],
                "registration_bases": [str(basis) for (basis, _), _ in registrations],
                "registration_days": [day for (_, day), _ in registrations],
                "registration_deltas": [delta for _, delta in registrations],
                "birth_dates": [day for day, _ in birth_dates],
                "birth_date_deltas": [delta for _, delta in birth_dates],
                "invoice_days": [day for (day, _), _ in invoice_rows],
                "invoice_currencies": [currency for (_, currency), _ in invoice_rows],
                **{figure: [row[figure] for _, row in invoice_rows] for figure in _FIGURES},
            },
        )

    async def _run(self, statement: PlainStatement, values: Mapping[str, object]) -> None:
        await self.connection.execute(statement.sql, *statement.arguments(values))


async def empty_all(session: AsyncSession) -> None:
    """Forget every aggregate and every applied event key (for a rebuild).

    The tables are locked in the order the consumer and the reports touch them
    (processed keys first), so a running instance waits instead of deadlocking.
    """
    names = ", ".join((processed_events.name, *AGGREGATE_TABLE_NAMES))
    await session.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
    await session.execute(text(f"TRUNCATE {names}"))


class ReportReader:
    """The read side: every report reads the aggregate tables only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def totals(self) -> dict[str, int]:
        rows = await self.session.execute(select(Total.name, Total.value))
        return dict(rows.all())

    async def daily_registrations(
        self, basis: RegistrationBasis, first: date, last: date
    ) -> dict[date, int]:
        rows = await self.session.execute(
            select(DailyRegistrations.day, DailyRegistrations.count).where(
                DailyRegistrations.basis == basis.value,
                DailyRegistrations.day.between(first, last),
            )
        )
        return dict(rows.all())

    async def active_patients_by_band(self, today: date) -> dict[str, int]:
        """Active patients with a known birth date per age band on ``today``: one
        ``GROUP BY`` over the per-birth-date counts."""
        band = case(
            *[
                (ActiveBirthDate.date_of_birth > threshold, literal(age_band.label))
                for age_band, threshold in band_thresholds(today)
            ],
            else_=literal(AGE_BANDS[-1].label),
        ).label("band")
        rows = await self.session.execute(
            select(band, func.sum(ActiveBirthDate.count))
            .where(ActiveBirthDate.count != 0)
            .group_by(band)
        )
        return {label: int(count) for label, count in rows}

    async def daily_billing(
        self, first: date, last: date, currency: str | None
    ) -> Sequence[DailyBilling]:
        statement = select(DailyBilling).where(DailyBilling.day.between(first, last))
        if currency is not None:
            statement = statement.where(DailyBilling.currency == currency)
        statement = statement.order_by(DailyBilling.currency, DailyBilling.day)
        return (await self.session.scalars(statement)).all()


_SUMMARY_TOTALS = "SELECT name, value FROM totals"
# The figures in ``_FIGURES``' order (column names of our own, no input): the summary's
# ``currency_totals`` reads them back by position.
_FIGURE_SUMS = ", ".join(f"sum({figure})" for figure in _FIGURES)
_SUMMARY_CURRENCY_TOTALS = f"SELECT currency, {_FIGURE_SUMS} FROM daily_billing GROUP BY currency"  # noqa: S608


class SummaryReader:
    """The summary's reads on a plain connection: each statement its own snapshot, as
    they are in a read-committed transaction too, so nothing is lost by having none."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def totals(self) -> dict[str, int]:
        return {row[0]: row[1] for row in await self.connection.fetch(_SUMMARY_TOTALS)}

    async def currency_totals(self) -> dict[str, dict[str, int]]:
        """All-time invoice figures (``issued_count``...) per currency."""
        return {
            row[0]: {figure: int(value) for figure, value in zip(_FIGURES, row[1:], strict=True)}
            for row in await self.connection.fetch(_SUMMARY_CURRENCY_TOTALS)
        }
