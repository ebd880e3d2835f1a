"""The transactional outbox of the patient events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

from pms_platform.migration_helpers import create_outbox_table_v1

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_table_v1()


def downgrade() -> None:
    op.drop_table("outbox_events")
