"""sampling strata and validation split

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:27:44.573543
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("frames", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stratum", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("sampling", sa.JSON(), nullable=True))

    with op.batch_alter_table("splits", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("val", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("splits", schema=None) as batch_op:
        batch_op.drop_column("val")

    with op.batch_alter_table("frames", schema=None) as batch_op:
        batch_op.drop_column("sampling")
        batch_op.drop_column("stratum")
