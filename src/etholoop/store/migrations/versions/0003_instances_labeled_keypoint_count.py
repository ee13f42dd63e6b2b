"""instances: count of labeled keypoints, so frame status is one SQL query

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


def upgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("n_labeled", sa.Integer(), server_default="0", nullable=False)
        )
    instances = sa.table(
        "instances",
        sa.column("id", sa.Integer),
        sa.column("visibility", sa.JSON),
        sa.column("n_labeled", sa.Integer),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(instances.c.id, instances.c.visibility))
    counts = [
        {"row_id": row_id, "n": sum(v > 0 for v in visibility)}
        for row_id, visibility in rows
    ]
    if counts:
        connection.execute(
            instances.update()
            .where(instances.c.id == sa.bindparam("row_id"))
            .values(n_labeled=sa.bindparam("n")),
            counts,
        )


def downgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_column("n_labeled")
