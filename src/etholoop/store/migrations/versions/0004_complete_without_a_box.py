"""complete without a box: recount instances.complete and frames.n_complete

An instance is complete when it is manual and every keypoint is labeled,
visible (2) or not (1); 0003 also required a box, so DeepLabCut and SLEAP
imports, which have none, never counted as done.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recount(*, need_box: bool) -> None:
    """Set every instance's complete flag by the rule, then each frame's count."""
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
            instances.c.id,
            instances.c.source,
            instances.c.x1,
            instances.c.visibility,
            instances.c.complete,
        )
    )
    changed = []
    for row_id, source, x1, visibility, complete in rows:
        done = (
            source == "manual"
            and (x1 is not None or not need_box)
            and all(v > 0 for v in visibility)
        )
        if done != bool(complete):
            changed.append({"row_id": row_id, "done": done})
    if changed:
        connection.execute(
            instances.update()
            .where(instances.c.id == sa.bindparam("row_id"))
            .values(complete=sa.bindparam("done")),
            changed,
        )
    frames = sa.table(
        "frames", sa.column("id", sa.Integer), sa.column("n_complete", sa.Integer)
    )
    count = sa.select(sa.func.count()).where(
        instances.c.frame_id == frames.c.id, instances.c.complete.is_(True)
    )
    connection.execute(frames.update().values(n_complete=count.scalar_subquery()))


def upgrade() -> None:
    _recount(need_box=False)


def downgrade() -> None:
    _recount(need_box=True)
