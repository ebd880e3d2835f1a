"""The aggregates, the per-patient state behind them, and the processed-events keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "patient_states",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("registered_date", sa.Date(), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_states")),
    )
    op.create_table(
        "totals",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_totals")),
    )
    op.create_table(
        "daily_registrations",
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("basis", "day", name=op.f("pk_daily_registrations")),
        sa.CheckConstraint(
            "basis IN ('registered', 'event')", name=op.f("ck_daily_registrations_basis")
        ),
    )
    op.create_table(
        "active_birth_dates",
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("date_of_birth", name=op.f("pk_active_birth_dates")),
    )
    op.create_table(
        "daily_billing",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _counter("issued_count"),
        _counter("issued_minor"),
        _counter("paid_count"),
        _counter("paid_minor"),
        _counter("voided_count"),
        _counter("voided_minor"),
        sa.PrimaryKeyConstraint("day", "currency", name=op.f("pk_daily_billing")),
    )
    # pms_platform.event_consumer.processed_events_table
    op.create_table(
        "processed_events",
        sa.Column("event_key", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("event_key", name=op.f("pk_processed_events")),
    )
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("daily_billing")
    op.drop_table("active_birth_dates")
    op.drop_table("daily_registrations")
    op.drop_table("totals")
    op.drop_table("patient_states")
