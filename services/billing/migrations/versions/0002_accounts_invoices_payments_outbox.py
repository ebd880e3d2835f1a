"""Billing accounts, invoices and payments; the outbox and the processed-events keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pms_platform.migration_helpers import create_outbox_table_v1

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, default_now: bool = False) -> sa.Column[sa.DateTime]:
    if default_now:
        return sa.Column(
            name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        )
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    op.create_table(
        "billing_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _timestamp("created_at", default_now=True),
        _timestamp("updated_at", default_now=True),
        _timestamp("closed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_accounts")),
        # The idempotency of CreateBillingAccount rests on this constraint.
        sa.UniqueConstraint("patient_id", name=op.f("uq_billing_accounts_patient_id")),
        sa.CheckConstraint(
            "status IN ('ACTIVE', 'CLOSED')", name=op.f("ck_billing_accounts_status")
        ),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        _timestamp("created_at", default_now=True),
        _timestamp("issued_at"),
        _timestamp("paid_at"),
        _timestamp("voided_at"),
        sa.Column("void_reason", sa.String(500), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_invoices_account_id_billing_accounts"),
        ),
        sa.CheckConstraint(
            "status IN ('DRAFT', 'ISSUED', 'PAID', 'VOID')", name=op.f("ck_invoices_status")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_invoices_amount_positive")),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_invoices_currency_code")),
    )
    op.create_index("ix_invoices_account_created", "invoices", ["account_id", "created_at", "id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _timestamp("created_at", default_now=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")
        ),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_payments_invoice_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
    )
    create_outbox_table_v1("outbox_events")
    # pms_platform.event_consumer.processed_events_table
    op.create_table(
        "processed_events",
        sa.Column("event_key", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        _timestamp("processed_at", default_now=True),
        sa.PrimaryKeyConstraint("event_key", name=op.f("pk_processed_events")),
    )
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox_events")
    op.drop_table("payments")
    op.drop_table("invoices")
    op.drop_table("billing_accounts")
