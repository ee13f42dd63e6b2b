"""tracked videos and track names

`tracked_videos`: each video of a tracking run, its status, error, files, quality.
`track_names`: the name of each identity `instances.track_id` refers to, so that
imported track names (a SLEAP file's "female", "male") come back on export.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the `tracked_videos` and `track_names` tables."""
    op.create_table(
        "track_names",
        sa.Column("track_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("track_id", name=op.f("pk_track_names")),
        sa.UniqueConstraint("name", name=op.f("uq_track_names_name")),
    )
    op.create_table(
        "tracked_videos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=1024), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=True),
        sa.Column("quality", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed')",
            name=op.f("ck_tracked_videos_status"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["model_runs.id"],
            name=op.f("fk_tracked_videos_run_id_model_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_tracked_videos_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracked_videos")),
        sa.UniqueConstraint("run_id", "video_id", name="uq_tracked_videos_run_video"),
    )
    op.create_index(
        op.f("ix_tracked_videos_run_id"), "tracked_videos", ["run_id"], unique=False
    )


def downgrade() -> None:
    """Drop the `tracked_videos` and `track_names` tables."""
    op.drop_index(op.f("ix_tracked_videos_run_id"), table_name="tracked_videos")
    op.drop_table("tracked_videos")
    op.drop_table("track_names")
