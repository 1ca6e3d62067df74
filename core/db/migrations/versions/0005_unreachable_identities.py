"""Identities: when a channel said the person cannot be reached there (e.g. a blocked bot).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 02:34:16.742205
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("resident_identities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unreachable_since", core.db.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("resident_identities", schema=None) as batch_op:
        batch_op.drop_column("unreachable_since")
