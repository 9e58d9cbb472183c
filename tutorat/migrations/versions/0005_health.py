"""Health probe: a one-row table that /sante writes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 20:35:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tutorat.models._types


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('health_check',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('checked_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_check'))
    )


def downgrade():
    op.drop_table('health_check')
