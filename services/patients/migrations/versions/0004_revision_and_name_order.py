"""The patients' revision (what a cached page is checked against) and the index of the
default order.

``patients_revision`` holds one counter per slot; a statement trigger on ``patients``
adds one to a slot chosen by the writing backend, in the writer's transaction, for every
insert, update, delete or truncate. The sum of the slots therefore grows with every
committed change, and a reader that sees the same sum as when it cached a page knows the
page is still what the table holds. Several slots keep concurrent writers from queueing
on one row lock.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVISION_SLOTS = 16


def upgrade() -> None:
    op.create_index("ix_patients_name_id", "patients", ["name", "id"])
    op.create_table(
        "patients_revision",
        sa.Column("slot", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("slot", name="pk_patients_revision"),
    )
    # The statements use the module's constant only (hence the noqa).
    op.execute(
        "INSERT INTO patients_revision (slot, revision) "  # noqa: S608
        f"SELECT slot, 0 FROM generate_series(0, {REVISION_SLOTS - 1}) AS slot"
    )
    op.execute(
        f"""
        CREATE FUNCTION bump_patients_revision() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE patients_revision SET revision = revision + 1
             WHERE slot = pg_backend_pid() % {REVISION_SLOTS};
            RETURN NULL;
        END;
        $$
        """  # noqa: S608
    )
    op.execute(
        "CREATE TRIGGER patients_changed AFTER INSERT OR UPDATE OR DELETE ON patients "
        "FOR EACH STATEMENT EXECUTE FUNCTION bump_patients_revision()"
    )
    op.execute(
        "CREATE TRIGGER patients_truncated AFTER TRUNCATE ON patients "
        "FOR EACH STATEMENT EXECUTE FUNCTION bump_patients_revision()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER patients_truncated ON patients")
    op.execute("DROP TRIGGER patients_changed ON patients")
    op.execute("DROP FUNCTION bump_patients_revision()")
    op.drop_table("patients_revision")
    op.drop_index("ix_patients_name_id", table_name="patients")
