"""labeling progress: complete flag per instance, instance counts per frame

Frame status in the annotation app is then a function of frame columns, so lists
of 100,000 frames filter and sort by it without touching the instances.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FRAME_COUNTS = ("n_instances", "n_predicted", "n_complete")


def upgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "complete", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("frames", schema=None) as batch_op:
        for name in FRAME_COUNTS:
            batch_op.add_column(
                sa.Column(name, sa.Integer(), server_default="0", nullable=False)
            )
    instances = sa.table(
        "instances",
        sa.column("id", sa.Integer),
        sa.column("frame_id", sa.Integer),
        sa.column("source", sa.String),
        sa.column("x1", sa.Float),
        sa.column("visibility", sa.JSON),
        sa.column("complete", sa.Boolean),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            instances.c.id, instances.c.source, instances.c.x1, instances.c.visibility
        )
    )
    complete = [
        {"row_id": row_id}
        for row_id, source, x1, visibility in rows
        if source == "manual" and x1 is not None and all(v > 0 for v in visibility)
    ]
    if complete:
        connection.execute(
            instances.update()
            .where(instances.c.id == sa.bindparam("row_id"))
            .values(complete=True),
            complete,
        )
    frames = sa.table(
        "frames", sa.column("id", sa.Integer), *map(sa.column, FRAME_COUNTS)
    )
    of_frame = instances.c.frame_id == frames.c.id
    count = sa.select(sa.func.count()).where(of_frame)
    connection.execute(
        frames.update().values(
            n_instances=count.scalar_subquery(),
            n_predicted=count.where(
                instances.c.source == "predicted"
            ).scalar_subquery(),
            n_complete=count.where(instances.c.complete.is_(True)).scalar_subquery(),
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("frames", schema=None) as batch_op:
        for name in FRAME_COUNTS:
            batch_op.drop_column(name)
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_column("complete")
