"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 22:21:11.656786
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
        "cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.String(length=4096), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
        sa.UniqueConstraint("index", name=op.f("uq_cycles_index")),
    )
    op.create_table(
        "videos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("fps", sa.Float(), nullable=True),
        sa.Column("n_frames", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("codec", sa.String(length=32), nullable=False),
        sa.Column("pix_fmt", sa.String(length=32), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("condition", sa.String(length=256), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("image_files", sa.JSON(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('file', 'images')", name=op.f("ck_videos_kind")),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["videos.id"],
            name=op.f("fk_videos_parent_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_videos")),
        sa.UniqueConstraint("sha256", name=op.f("uq_videos_sha256")),
    )
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_videos_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "behavior_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.Integer(), nullable=False),
        sa.Column("individual", sa.Integer(), nullable=False),
        sa.Column("behavior", sa.String(length=128), nullable=False),
        sa.Column("start_frame", sa.Integer(), nullable=False),
        sa.Column("stop_frame", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("author", sa.String(length=256), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('manual', 'predicted')", name=op.f("ck_behavior_labels_source")
        ),
        sa.CheckConstraint(
            "start_frame >= 0 AND stop_frame > start_frame",
            name=op.f("ck_behavior_labels_range"),
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_behavior_labels_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_behavior_labels")),
    )
    with op.batch_alter_table("behavior_labels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_behavior_labels_video_id"), ["video_id"], unique=False
        )

    op.create_table(
        "frames",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.Integer(), nullable=False),
        sa.Column("frame_idx", sa.Integer(), nullable=False),
        sa.Column("image_path", sa.String(length=1024), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("frame_idx >= 0", name=op.f("ck_frames_frame_idx")),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_frames_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frames")),
        sa.UniqueConstraint("video_id", "frame_idx", name=op.f("uq_frames_video_id")),
    )
    op.create_table(
        "model_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_dir", sa.String(length=1024), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["cycles.id"],
            name=op.f("fk_model_runs_cycle_id_cycles"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_runs")),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("frame_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("x1", sa.Float(), nullable=True),
        sa.Column("y1", sa.Float(), nullable=True),
        sa.Column("x2", sa.Float(), nullable=True),
        sa.Column("y2", sa.Float(), nullable=True),
        sa.Column("box_score", sa.Float(), nullable=True),
        sa.Column("keypoints", sa.JSON(), nullable=False),
        sa.Column("visibility", sa.JSON(), nullable=False),
        sa.Column("keypoint_scores", sa.JSON(), nullable=True),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=256), nullable=True),
        sa.Column("model_run_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('manual', 'predicted')", name=op.f("ck_instances_source")
        ),
        sa.ForeignKeyConstraint(
            ["frame_id"],
            ["frames.id"],
            name=op.f("fk_instances_frame_id_frames"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_run_id"],
            ["model_runs.id"],
            name=op.f("fk_instances_model_run_id_model_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
    )
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instances_frame_id"), ["frame_id"], unique=False
        )

    op.create_table(
        "splits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("frame_id", sa.Integer(), nullable=False),
        sa.Column("split", sa.String(length=16), nullable=False),
        sa.Column("stratum", sa.String(length=256), nullable=True),
        sa.CheckConstraint(
            "split IN ('test', 'trainval', 'predict', 'reserve')",
            name=op.f("ck_splits_split"),
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["cycles.id"],
            name=op.f("fk_splits_cycle_id_cycles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["frame_id"],
            ["frames.id"],
            name=op.f("fk_splits_frame_id_frames"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_splits")),
        sa.UniqueConstraint("cycle_id", "frame_id", name=op.f("uq_splits_cycle_id")),
    )
    with op.batch_alter_table("splits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_splits_cycle_split", ["cycle_id", "split"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("splits", schema=None) as batch_op:
        batch_op.drop_index("ix_splits_cycle_split")

    op.drop_table("splits")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_frame_id"))

    op.drop_table("instances")
    op.drop_table("model_runs")
    op.drop_table("frames")
    with op.batch_alter_table("behavior_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_behavior_labels_video_id"))

    op.drop_table("behavior_labels")
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_videos_parent_id"))

    op.drop_table("videos")
    op.drop_table("cycles")
