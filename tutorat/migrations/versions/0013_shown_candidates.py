"""The candidates shown to the référent with each proposal (rank and parts), to learn from decisions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 02:20:00.000000

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shown_candidates", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.drop_column("shown_candidates")
