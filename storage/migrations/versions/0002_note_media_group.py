"""notes.media_group: the photos of one album nest under its captioned first photo

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("media_group", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_notes_chat_media_group", ["chat_id", "media_group"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_chat_media_group")
        batch_op.drop_column("media_group")
