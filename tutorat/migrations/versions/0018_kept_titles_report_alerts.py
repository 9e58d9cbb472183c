"""The job titles people picked (not only the ROME codes); the référent's own choice for the
emails about reports and stop requests

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mentee_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_titles', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('tutor_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metier_title', sa.String(length=300), server_default='', nullable=False))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_reports', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('notify_reports')
    with op.batch_alter_table('tutor_profile', schema=None) as batch_op:
        batch_op.drop_column('metier_title')
    with op.batch_alter_table('mentee_profile', schema=None) as batch_op:
        batch_op.drop_column('target_titles')
