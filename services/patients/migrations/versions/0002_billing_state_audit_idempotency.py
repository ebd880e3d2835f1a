"""Billing state and version on patients, trigram search, audit log, idempotency keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # pg_trgm is a trusted extension: the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column(
        "patients", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column("patients", sa.Column("billing_account_id", sa.String(64), nullable=True))
    op.add_column(
        "patients",
        sa.Column("billing_status", sa.String(16), nullable=False, server_default="PENDING"),
    )
    op.add_column(
        "patients", sa.Column("billing_attempts", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "patients",
        sa.Column(
            "billing_next_attempt_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
    )
    op.create_index(
        "ix_patients_name_trgm",
        "patients",
        ["name"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_patients_email_trgm",
        "patients",
        ["email"],
        postgresql_using="gin",
        postgresql_ops={"email": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_patients_billing_pending",
        "patients",
        ["billing_next_attempt_at"],
        postgresql_where=sa.text("billing_status = 'PENDING'"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("user_email", sa.String(255), nullable=False),
        sa.Column("user_role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("patient_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"])
    op.create_index(
        "ix_audit_log_patient_ids", "audit_log", ["patient_ids"], postgresql_using="gin"
    )
    op.create_index("ix_audit_log_user_id", "audit_log", ["user_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("audit_log")
    op.drop_index("ix_patients_billing_pending", table_name="patients")
    op.drop_index("ix_patients_email_trgm", table_name="patients")
    op.drop_index("ix_patients_name_trgm", table_name="patients")
    for column in (
        "billing_next_attempt_at",
        "billing_attempts",
        "billing_status",
        "billing_account_id",
        "version",
    ):
        op.drop_column("patients", column)
