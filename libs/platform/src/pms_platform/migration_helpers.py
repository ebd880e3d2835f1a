"""DDL shared by several services' migrations, frozen per version.

A migration must create the same schema forever, so these functions never change once
released: a later change to the outbox gets a ``..._v2`` helper and a new migration in
each service, while :func:`pms_platform.outbox.outbox_table` describes the newest shape.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def create_outbox_table_v1(name: str = "outbox_events") -> None:
    """The transactional outbox as :func:`pms_platform.outbox.outbox_table` defines it."""
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column(
            "headers", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_unsent", name, ["id"], postgresql_where=sa.text("sent_at IS NULL"))
    op.create_index(
        f"ix_{name}_unsent_key", name, ["key", "id"], postgresql_where=sa.text("sent_at IS NULL")
    )
    op.create_index(
        f"ix_{name}_sent_at", name, ["sent_at"], postgresql_where=sa.text("sent_at IS NOT NULL")
    )
