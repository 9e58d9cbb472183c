"""Outbox: who each email names, cancelled and claimed statuses, redaction; coarse place on anonymisation

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tutorat.models._types


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'sent', 'failed')"
NEW_STATUSES = "status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')"


def upgrade():
    op.create_table('outbox_email_person',
    sa.Column('email_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['email_id'], ['outbox_email.id'], name=op.f('fk_outbox_email_person_email_id_outbox_email'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_outbox_email_person_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('email_id', 'user_id', name=op.f('pk_outbox_email_person'))
    )
    with op.batch_alter_table('outbox_email_person', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_email_person_user', ['user_id'], unique=False)

    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted_at', tutorat.models._types.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_outbox_email_statut_connu'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_email_statut_connu'), NEW_STATUSES)

    for table in ('mentee_profile', 'tutor_profile'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('canton_code', sa.String(length=4), nullable=True))

    # Emails written before this revision: at least their recipient is known.
    op.execute(
        "INSERT INTO outbox_email_person (email_id, user_id) "
        "SELECT o.id, u.id FROM outbox_email o "
        "JOIN user_account u ON lower(u.email) = lower(o.recipient)"
    )


def downgrade():
    for table in ('tutor_profile', 'mentee_profile'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('canton_code')

    op.execute("UPDATE outbox_email SET status = 'failed' WHERE status IN ('sending', 'cancelled')")
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_email_statut_connu'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_email_statut_connu'), OLD_STATUSES)
        batch_op.drop_column('redacted_at')

    with op.batch_alter_table('outbox_email_person', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_email_person_user')

    op.drop_table('outbox_email_person')
