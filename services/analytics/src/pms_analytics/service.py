"""Analytics' domain: ``AnalyticsService``, which applies the changes decoded from the
events to the aggregates and answers the reports from them. No HTTP here; every method
works in the caller's transaction (the consumer's for a change, the request's for a
report; the summary on the caller's plain connection) and never commits. Its clock,
``today``, dates the reports' default ranges and the ages of the demographics.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TypeVar

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from pms_analytics.age_bands import AGE_BANDS
from pms_analytics.aggregates import (
    AnalyticsChange,
    BillingChange,
    InvoiceAmount,
    PatientChange,
    RegistrationBasis,
    TotalName,
    billing_effect,
    patient_effect,
)
from pms_analytics.models import DailyBilling
from pms_analytics.periods import Bucket, Granularity, bucket_start, buckets
from pms_analytics.repository import (
    AggregateWriter,
    CountChanges,
    ReportReader,
    SummaryReader,
    empty_all,
)
from pms_analytics.schemas import (
    AgeBandOut,
    BillingTotals,
    CurrencyFigures,
    CurrencyRevenue,
    DemographicsOut,
    InvoiceFigures,
    PatientTotals,
    RegistrationBucket,
    RegistrationsOut,
    RegistrationsParams,
    RevenueBucket,
    RevenueOut,
    RevenueParams,
    SummaryOut,
)

_FIGURES = tuple(InvoiceFigures.model_fields)
K = TypeVar("K")


def _nonzero(counts: Mapping[K, int]) -> dict[K, int]:
    return {key: value for key, value in counts.items() if value}


def today_utc() -> date:
    return datetime.now(UTC).date()


class AnalyticsService:
    """The aggregates (write side: :meth:`apply_changes`, :meth:`empty_aggregates`) and
    the reports read from them. ``today`` is the reports' clock (the UTC day)."""

    def __init__(self, today: Callable[[], date] = today_utc) -> None:
        self._today = today

    # --- Write side ---------------------------------------------------------------

    async def apply_changes(
        self, connection: asyncpg.Connection, changes: Sequence[AnalyticsChange]
    ) -> None:
        """Move the aggregates by what each of ``changes`` makes different, in order, with a
        few statements for them all (one change or a batch's): their patients' states
        locked and read at once (locked first: a patient's row decides the differences,
        and the lock keeps them right if another consumer handles this patient at the same
        time, in a rebalance), the effects summed in memory (a patient changed twice sees
        its first change), the states written and the counters moved once."""
        writer = AggregateWriter(connection)
        known = await writer.patients_for_update(
            list({change.patient_id for change in changes if isinstance(change, PatientChange)})
        )
        states = dict(known)
        totals: Counter[TotalName] = Counter()
        registrations: Counter[tuple[RegistrationBasis, date]] = Counter()
        birth_dates: Counter[date] = Counter()
        invoices: list[InvoiceAmount] = []
        for change in changes:
            if isinstance(change, BillingChange):
                billing = billing_effect(change)
                totals.update(billing.totals)
                invoices.extend(() if billing.invoice is None else (billing.invoice,))
                continue
            effect = patient_effect(states.get(change.patient_id), change)
            totals.update(effect.totals)
            registrations.update(effect.registrations)
            birth_dates.update(effect.active_birth_dates)
            if effect.state is not None:
                states[change.patient_id] = effect.state
        await writer.save_patients(
            new={key: state for key, state in states.items() if key not in known},
            known={
                key: state for key, state in states.items() if known.get(key, state) is not state
            },
        )
        await writer.add_counts(
            CountChanges(
                totals=_nonzero(totals),
                registrations=_nonzero(registrations),
                active_birth_dates=_nonzero(birth_dates),
                invoices=invoices,
            )
        )

    async def empty_aggregates(self, session: AsyncSession) -> None:
        """Forget every aggregate and every applied event key (the rebuild's first step)."""
        await empty_all(session)

    # --- Reports ------------------------------------------------------------------

    async def summary(self, connection: asyncpg.Connection) -> SummaryOut:
        """On a plain connection (:meth:`~pms_platform.db.Database.connection`): the one
        report dashboards poll, so it skips the ORM."""
        reader = SummaryReader(connection)
        totals = await reader.totals()

        def total(name: TotalName) -> int:
            return totals.get(name, 0)

        amounts = [
            CurrencyFigures(currency=currency, **figures)
            for currency, figures in sorted((await reader.currency_totals()).items())
        ]
        return SummaryOut(
            patients=PatientTotals(
                active=total(TotalName.PATIENTS_ACTIVE),
                created=total(TotalName.PATIENTS_CREATED),
                updated=total(TotalName.PATIENTS_UPDATED),
                deleted=total(TotalName.PATIENTS_DELETED),
            ),
            billing=BillingTotals(
                # Never below zero: a topic trimmed by retention may hold closures of
                # accounts whose creation is gone.
                accounts_open=max(
                    total(TotalName.ACCOUNTS_CREATED) - total(TotalName.ACCOUNTS_CLOSED), 0
                ),
                accounts_closed=total(TotalName.ACCOUNTS_CLOSED),
                invoices_issued=total(TotalName.INVOICES_ISSUED),
                invoices_paid=total(TotalName.INVOICES_PAID),
                invoices_voided=total(TotalName.INVOICES_VOIDED),
                amounts=amounts,
            ),
        )

    async def registrations(
        self, session: AsyncSession, params: RegistrationsParams
    ) -> RegistrationsOut:
        query = params.resolve(self._today())
        period = query.range
        daily = await ReportReader(session).daily_registrations(
            query.basis, period.first, period.last
        )
        counts = _per_bucket(daily.items(), period.granularity)
        series = [
            RegistrationBucket(
                start=bucket.start, end=bucket.end, count=counts.get(bucket.start, 0)
            )
            for bucket in buckets(period.first, period.last, period.granularity)
        ]
        return RegistrationsOut(
            from_=period.first,
            to=period.last,
            granularity=period.granularity,
            by=query.basis,
            total=sum(daily.values()),
            buckets=series,
        )

    async def demographics(self, session: AsyncSession) -> DemographicsOut:
        today = self._today()
        reader = ReportReader(session)
        totals = await reader.totals()  # before the bands: the lock order of empty_all
        by_band = await reader.active_patients_by_band(today)
        return DemographicsOut(
            as_of=today,
            active_patients=totals.get(TotalName.PATIENTS_ACTIVE, 0),
            age_bands=[
                AgeBandOut(
                    band=band.label,
                    min_age=band.min_age,
                    max_age=band.max_age,
                    count=by_band.get(band.label, 0),
                )
                for band in AGE_BANDS
            ],
            unknown_age=totals.get(TotalName.ACTIVE_BIRTH_DATE_UNKNOWN, 0),
        )

    async def revenue(self, session: AsyncSession, params: RevenueParams) -> RevenueOut:
        query = params.resolve(self._today())
        period = query.range
        rows = await ReportReader(session).daily_billing(period.first, period.last, query.currency)
        per_currency: dict[str, list[DailyBilling]] = {}
        for row in rows:
            per_currency.setdefault(row.currency, []).append(row)
        if query.currency is not None:
            per_currency.setdefault(query.currency, [])
        periods = list(buckets(period.first, period.last, period.granularity))
        return RevenueOut(
            from_=period.first,
            to=period.last,
            granularity=period.granularity,
            currency=query.currency,
            currencies=[
                _currency_revenue(currency, per_currency[currency], periods, period.granularity)
                for currency in sorted(per_currency)
            ],
        )


def _currency_revenue(
    currency: str, rows: list[DailyBilling], periods: list[Bucket], granularity: Granularity
) -> CurrencyRevenue:
    sums: dict[date, dict[str, int]] = {}
    for row in rows:
        bucket = sums.setdefault(bucket_start(row.day, granularity), dict.fromkeys(_FIGURES, 0))
        for figure in _FIGURES:
            bucket[figure] += getattr(row, figure)
    return CurrencyRevenue(
        currency=currency,
        **{figure: sum(bucket[figure] for bucket in sums.values()) for figure in _FIGURES},
        buckets=[RevenueBucket(start=p.start, end=p.end, **sums.get(p.start, {})) for p in periods],
    )


def _per_bucket(daily: Iterable[tuple[date, int]], granularity: Granularity) -> dict[date, int]:
    counts: dict[date, int] = {}
    for day, count in daily:
        start = bucket_start(day, granularity)
        counts[start] = counts.get(start, 0) + count
    return counts
