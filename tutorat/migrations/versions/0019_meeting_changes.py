"""Meetings corrected or deleted within 7 days (history kept), the next meeting planned

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 05:18:29.356289

"""
from alembic import op
import sqlalchemy as sa

import tutorat.models._types


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meeting_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pair_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('at', tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.CheckConstraint("kind IN ('corrected', 'deleted')", name=op.f('ck_meeting_change_changement_connu')),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_meeting_change_actor_id_user_account')),
    sa.ForeignKeyConstraint(['pair_id'], ['pair.id'], name=op.f('fk_meeting_change_pair_id_pair')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_change'))
    )
    with op.batch_alter_table('meeting_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_change_pair_id'), ['pair_id'], unique=False)

    op.create_table('next_meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pair_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('at_time', sa.Time(), nullable=True),
    sa.Column('place', sa.String(length=150), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('set_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['pair_id'], ['pair.id'], name=op.f('fk_next_meeting_pair_id_pair')),
    sa.ForeignKeyConstraint(['set_by_id'], ['user_account.id'], name=op.f('fk_next_meeting_set_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_next_meeting')),
    sa.UniqueConstraint('pair_id', name='une_prochaine_rencontre_par_binome')
    )


def downgrade():
    op.drop_table('next_meeting')
    with op.batch_alter_table('meeting_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_change_pair_id'))

    op.drop_table('meeting_change')
