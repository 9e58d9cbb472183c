"""Tutor applications and their checklist; the charter accepted and « indisponible jusqu'au » on tutor profiles

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 01:58:00.660062

"""
from alembic import op
import sqlalchemy as sa

import tutorat.models._types


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tutor_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('commune_code', sa.String(length=5), nullable=True),
    sa.Column('metier_code', sa.String(length=5), nullable=True),
    sa.Column('availability', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('has_car', sa.Boolean(), nullable=False),
    sa.Column('max_km', sa.Integer(), nullable=False),
    sa.Column('remote_ok', sa.Boolean(), nullable=False),
    sa.Column('obstacles', sa.String(length=200), nullable=False),
    sa.Column('experience_note', sa.Text(), nullable=False),
    sa.Column('consent_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('suggested_by_id', sa.Integer(), nullable=True),
    sa.Column('suggestion_note', sa.Text(), nullable=False),
    sa.Column('former_mentee_id', sa.Integer(), nullable=True),
    sa.Column('tutor_id', sa.Integer(), nullable=True),
    sa.Column('identity_checked_on', sa.Date(), nullable=True),
    sa.Column('identity_checked_by_id', sa.Integer(), nullable=True),
    sa.Column('charter_version', sa.Integer(), nullable=True),
    sa.Column('charter_accepted_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('criminal_record_seen_on', sa.Date(), nullable=True),
    sa.Column('criminal_record_seen_by_id', sa.Integer(), nullable=True),
    sa.Column('info_meeting_on', sa.Date(), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=False),
    sa.Column('decided_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('public', 'referent', 'former_mentee', 'admin')", name=op.f('ck_tutor_application_origine_connue')),
    sa.CheckConstraint("status <> 'refused' OR refusal_reason <> ''", name=op.f('ck_tutor_application_refus_avec_motif')),
    sa.CheckConstraint("status <> 'validated' OR tutor_id IS NOT NULL", name=op.f('ck_tutor_application_validee_avec_compte')),
    sa.CheckConstraint("status IN ('invited', 'to_review', 'validated', 'refused', 'withdrawn')", name=op.f('ck_tutor_application_statut_connu')),
    sa.CheckConstraint('availability >= 0 AND availability <= 2097151', name=op.f('ck_tutor_application_creneaux_valides')),
    sa.CheckConstraint('capacity >= 1 AND capacity <= 3', name=op.f('ck_tutor_application_capacite_1_a_3')),
    sa.CheckConstraint('max_km >= 0 AND max_km <= 200', name=op.f('ck_tutor_application_distance_max_valide')),
    sa.ForeignKeyConstraint(['commune_code'], ['commune.code_insee'], name=op.f('fk_tutor_application_commune_code_commune')),
    sa.ForeignKeyConstraint(['criminal_record_seen_by_id'], ['user_account.id'], name=op.f('fk_tutor_application_criminal_record_seen_by_id_user_account')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_tutor_application_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['former_mentee_id'], ['user_account.id'], name=op.f('fk_tutor_application_former_mentee_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['identity_checked_by_id'], ['user_account.id'], name=op.f('fk_tutor_application_identity_checked_by_id_user_account')),
    sa.ForeignKeyConstraint(['metier_code'], ['rome_metier.code'], name=op.f('fk_tutor_application_metier_code_rome_metier')),
    sa.ForeignKeyConstraint(['suggested_by_id'], ['user_account.id'], name=op.f('fk_tutor_application_suggested_by_id_user_account')),
    sa.ForeignKeyConstraint(['tutor_id'], ['user_account.id'], name=op.f('fk_tutor_application_tutor_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tutor_application'))
    )
    with op.batch_alter_table('tutor_application', schema=None) as batch_op:
        batch_op.create_index('ix_tutor_application_status', ['status', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tutor_application_tutor_id'), ['tutor_id'], unique=False)
        batch_op.create_index('uq_tutor_application_open_email', ['email'], unique=True, sqlite_where=sa.text("status IN ('invited', 'to_review')"), postgresql_where=sa.text("status IN ('invited', 'to_review')"))

    op.create_table('tutor_application_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('at', tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('item', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("item IS NULL OR item IN ('identity', 'charter', 'criminal_record', 'info_meeting')", name=op.f('ck_tutor_application_event_etape_connue')),
    sa.CheckConstraint('to_status IS NOT NULL OR item IS NOT NULL', name=op.f('ck_tutor_application_event_statut_ou_etape')),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_tutor_application_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['application_id'], ['tutor_application.id'], name=op.f('fk_tutor_application_event_application_id_tutor_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tutor_application_event'))
    )
    with op.batch_alter_table('tutor_application_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tutor_application_event_application_id'), ['application_id'], unique=False)

    with op.batch_alter_table('tutor_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unavailable_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('charter_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('charter_accepted_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=True))

    # A tutor not yet validated now goes through the checklist: each gets an application
    # « à examiner » (as if the administration had created the account today), with its event.
    op.execute(
        """
        INSERT INTO tutor_application (status, source, first_name, last_name, email, phone,
            availability, capacity, has_car, max_km, remote_ok, obstacles, experience_note,
            suggestion_note, refusal_reason, tutor_id, created_at, submitted_at, updated_at)
        SELECT 'to_review', 'admin', u.first_name, u.last_name, u.email, u.phone, 0, p.capacity,
            p.has_car, p.max_km, p.remote_ok, '', '', '', '', u.id, u.created_at, u.created_at,
            CURRENT_TIMESTAMP
        FROM user_account u JOIN tutor_profile p ON p.user_id = u.id
        WHERE u.role = 'tutor' AND p.validated_at IS NULL AND u.active AND u.email IS NOT NULL
        """
    )
    op.execute(
        """
        INSERT INTO tutor_application_event (application_id, at, to_status, note)
        SELECT id, CURRENT_TIMESTAMP, 'to_review', 'Tuteur non validé avant la liste de vérification'
        FROM tutor_application
        """
    )



def downgrade():
    with op.batch_alter_table('tutor_profile', schema=None) as batch_op:
        batch_op.drop_column('charter_accepted_at')
        batch_op.drop_column('charter_version')
        batch_op.drop_column('unavailable_until')

    with op.batch_alter_table('tutor_application_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tutor_application_event_application_id'))

    op.drop_table('tutor_application_event')
    with op.batch_alter_table('tutor_application', schema=None) as batch_op:
        batch_op.drop_index('uq_tutor_application_open_email', sqlite_where=sa.text("status IN ('invited', 'to_review')"), postgresql_where=sa.text("status IN ('invited', 'to_review')"))
        batch_op.drop_index(batch_op.f('ix_tutor_application_tutor_id'))
        batch_op.drop_index('ix_tutor_application_status')

    op.drop_table('tutor_application')
