"""inbox dead letters and content keys: attempts, dead_at, error; unique (update_id, digest)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("digest", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("dead_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("error", sa.String(length=200), nullable=True))
        batch_op.drop_constraint("uq_inbox_update_id", type_="unique")
        batch_op.create_unique_constraint("uq_inbox_update_id_digest", ["update_id", "digest"])


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_inbox_update_id_digest", type_="unique")
        batch_op.create_unique_constraint("uq_inbox_update_id", ["update_id"])
        batch_op.drop_column("error")
        batch_op.drop_column("dead_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("digest")
