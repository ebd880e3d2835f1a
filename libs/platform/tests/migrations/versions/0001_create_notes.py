"""Create the notes table, whose slug is unique only at commit time.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(50), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    # Deferred, so a duplicate is detected by COMMIT itself: the tests use it to make a
    # commit fail after the endpoint has returned.
    op.execute(
        "ALTER TABLE notes ADD CONSTRAINT uq_notes_slug UNIQUE (slug) DEFERRABLE INITIALLY DEFERRED"
    )


def downgrade() -> None:
    op.drop_table("notes")
