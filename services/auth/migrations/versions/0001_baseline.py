"""Baseline of the auth database: the revision later migrations build on.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet: the auth service's tables arrive with its own issue."""


def downgrade() -> None:
    """Nothing to undo."""
