"""imported tracks: pose tracks from other tools, sessions without a video

`imported_tracks`: each pose tracks file imported for a video, with the
project's copy of it. `videos.kind` gains `tracks`: a session known by its pose
tracks alone, whose frames behaviors are labeled on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _kinds(kinds: tuple[str, ...]) -> None:
    quoted = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_videos_kind"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_videos_kind"), f"kind IN ({quoted})"
        )


def upgrade() -> None:
    """Add `imported_tracks`; allow videos of kind `tracks`."""
    _kinds(("file", "images", "tracks"))
    op.create_table(
        "imported_tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("source_path", sa.String(length=1024), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_imported_tracks_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_tracks")),
    )
    op.create_index(
        op.f("ix_imported_tracks_video_id"),
        "imported_tracks",
        ["video_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop `imported_tracks` and the tracks-only sessions."""
    op.drop_index(op.f("ix_imported_tracks_video_id"), table_name="imported_tracks")
    op.drop_table("imported_tracks")
    op.execute("DELETE FROM videos WHERE kind = 'tracks'")
    _kinds(("file", "images"))
