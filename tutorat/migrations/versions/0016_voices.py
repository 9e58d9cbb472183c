"""Voices: a binôme can be paused or have its stop requested; private reports, check-ins, goals

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tutorat.models._types


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

OLD_STATUSES = ('proposed', 'tutor_accepted', 'mentee_accepted', 'accepted', 'active', 'ended', 'declined', 'expired', 'withdrawn')
NEW_STATUSES = ('proposed', 'tutor_accepted', 'mentee_accepted', 'accepted', 'active', 'paused', 'stop_requested', 'ended', 'declined', 'expired', 'withdrawn')
OLD_LIVE = ('proposed', 'tutor_accepted', 'mentee_accepted', 'accepted', 'active')
NEW_LIVE = ('proposed', 'tutor_accepted', 'mentee_accepted', 'accepted', 'active', 'paused', 'stop_requested')


def _in(statuses) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def _pair_statuses(statuses, live) -> None:
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.drop_index('uq_binome_vivant_par_beneficiaire')
        batch_op.drop_constraint(batch_op.f('ck_pair_statut_connu'), type_='check')
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f('ck_pair_statut_connu'), _in(statuses))
        batch_op.create_index(
            'uq_binome_vivant_par_beneficiaire', ['mentee_id'], unique=True,
            sqlite_where=sa.text(_in(live)), postgresql_where=sa.text(_in(live)),
        )


def upgrade():
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_until', sa.Date(), nullable=True))
    _pair_statuses(NEW_STATUSES, NEW_LIVE)

    op.create_table('pair_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pair_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_note', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('stop', 'problem')", name=op.f('ck_pair_report_signalement_type_connu')),
    sa.CheckConstraint("kind <> 'stop' OR reason IS NOT NULL", name=op.f('ck_pair_report_arret_avec_raison')),
    sa.CheckConstraint("kind <> 'problem' OR length(comment) > 0", name=op.f('ck_pair_report_probleme_avec_description')),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_pair_report_author_id_user_account')),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user_account.id'], name=op.f('fk_pair_report_handled_by_id_user_account')),
    sa.ForeignKeyConstraint(['pair_id'], ['pair.id'], name=op.f('fk_pair_report_pair_id_pair')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pair_report'))
    )
    with op.batch_alter_table('pair_report', schema=None) as batch_op:
        batch_op.create_index('ix_pair_report_open', ['pair_id', 'handled_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_report_pair_id'), ['pair_id'], unique=False)

    op.create_table('check_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pair_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('round_number', sa.Integer(), nullable=False),
    sa.Column('asked_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.String(length=10), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('answered_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("answer IN ('good', 'average', 'bad')", name=op.f('ck_check_in_point_reponse_connue')),
    sa.CheckConstraint('round_number >= 0', name=op.f('ck_check_in_point_tour_positif')),
    sa.ForeignKeyConstraint(['pair_id'], ['pair.id'], name=op.f('fk_check_in_pair_id_pair')),
    sa.ForeignKeyConstraint(['person_id'], ['user_account.id'], name=op.f('fk_check_in_person_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in')),
    sa.UniqueConstraint('pair_id', 'person_id', 'round_number', name='point_une_fois_par_tour')
    )
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_pair_id'), ['pair_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_in_person_id'), ['person_id'], unique=False)

    op.create_table('goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pair_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=True),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('todo', 'in_progress', 'reached')", name=op.f('ck_goal_objectif_etat_connu')),
    sa.CheckConstraint('length(text) > 0', name=op.f('ck_goal_objectif_non_vide')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_goal_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['pair_id'], ['pair.id'], name=op.f('fk_goal_pair_id_pair')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_goal_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal'))
    )
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_pair_id'), ['pair_id'], unique=False)


def downgrade():
    op.drop_table('goal')
    op.drop_table('check_in')
    op.drop_table('pair_report')
    # A paused binôme, or one whose stop was requested, is active again for the older schema.
    op.execute("UPDATE pair SET status = 'active' WHERE status IN ('paused', 'stop_requested')")
    _pair_statuses(OLD_STATUSES, OLD_LIVE)
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.drop_column('paused_until')
