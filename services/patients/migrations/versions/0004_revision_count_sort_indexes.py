"""The patients' revision (what a cached page is checked against), their exact count,
and an index per sort order.

``patients_revision`` holds, per slot, a revision counter and a share of the count of
patients. A statement trigger on ``patients`` adds one to the revision of a slot chosen
by the writing backend, in the writer's transaction, for every insert, update, delete or
truncate, and moves that slot's count by the rows inserted or deleted. The sum of the
revisions therefore grows with every committed change (a reader that sees the same sum
as when it cached a page knows the page is still what the table holds), and the sum of
the counts is ``count(*)`` without scanning the table. Several slots keep concurrent
writers from queueing on one row lock.

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
SORT_INDEXES = {
    "ix_patients_name_id": "name",
    "ix_patients_email_id": "email",
    "ix_patients_date_of_birth_id": "date_of_birth",
    "ix_patients_registered_date_id": "registered_date",
}


def upgrade() -> None:
    # Every sort key of the list, with the id that breaks ties: a page is an index
    # range at any table size instead of a sort of the whole table.
    for name, column in SORT_INDEXES.items():
        op.create_index(name, "patients", [column, "id"])
    op.create_table(
        "patients_revision",
        sa.Column("slot", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("patients", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("slot", name="pk_patients_revision"),
    )
    # The statements use the module's constant only (hence the noqa).
    op.execute(
        "INSERT INTO patients_revision (slot, revision, patients) "  # noqa: S608
        f"SELECT slot, 0, 0 FROM generate_series(0, {REVISION_SLOTS - 1}) AS slot"
    )
    op.execute(
        "UPDATE patients_revision SET patients = (SELECT count(*) FROM patients) WHERE slot = 0"
    )
    # One function for the four triggers; each branch reads only its own trigger's
    # transition table (PL/pgSQL plans a statement when it first runs it).
    op.execute(
        f"""
        CREATE FUNCTION patients_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            delta bigint := 0;
        BEGIN
            IF TG_OP = 'INSERT' THEN
                SELECT count(*) INTO delta FROM inserted_patients;
            ELSIF TG_OP = 'DELETE' THEN
                SELECT -count(*) INTO delta FROM deleted_patients;
            ELSIF TG_OP = 'TRUNCATE' THEN
                UPDATE patients_revision SET patients = 0;
            END IF;
            UPDATE patients_revision SET revision = revision + 1, patients = patients + delta
             WHERE slot = pg_backend_pid() % {REVISION_SLOTS};
            RETURN NULL;
        END;
        $$
        """  # noqa: S608
    )
    for trigger, event, transition in [
        ("patients_inserted", "INSERT", "REFERENCING NEW TABLE AS inserted_patients"),
        ("patients_deleted", "DELETE", "REFERENCING OLD TABLE AS deleted_patients"),
        ("patients_updated", "UPDATE", ""),
        ("patients_truncated", "TRUNCATE", ""),
    ]:
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER {event} ON patients {transition} "
            "FOR EACH STATEMENT EXECUTE FUNCTION patients_changed()"
        )


def downgrade() -> None:
    for trigger in (
        "patients_inserted",
        "patients_deleted",
        "patients_updated",
        "patients_truncated",
    ):
        op.execute(f"DROP TRIGGER {trigger} ON patients")
    op.execute("DROP FUNCTION patients_changed()")
    op.drop_table("patients_revision")
    for name in SORT_INDEXES:
        op.drop_index(name, table_name="patients")
