"""The loop: a mentee's answer « aider à mon tour plus tard » on her ended binôme, and the invitation sent

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 05:50:00

"""
from alembic import op
import sqlalchemy as sa

import tutorat.models._types


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mentee_would_help', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('mentee_would_help_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('help_invited_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_pair_reponse_aider_datee'),
            'mentee_would_help IS NULL OR mentee_would_help_at IS NOT NULL',
        )


def downgrade():
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_pair_reponse_aider_datee'), type_='check')
        batch_op.drop_column('help_invited_at')
        batch_op.drop_column('mentee_would_help_at')
        batch_op.drop_column('mentee_would_help')
