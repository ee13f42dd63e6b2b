"""video pixel stats: the gray mean and std pixel models normalize a video by

Measured once per video the first time a pixel model reads it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add `videos.pixel_stats`."""
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pixel_stats", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop `videos.pixel_stats`."""
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_column("pixel_stats")
