"""Outbox: the channel's id of each sent message, so a reply to it finds its complaint.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 01:58:03.772539
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=512), nullable=True))
        batch_op.create_index(
            "ix_outbox_channel_external_id", ["channel", "external_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_channel_external_id")
        batch_op.drop_column("external_id")
