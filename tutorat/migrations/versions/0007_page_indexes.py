"""Indexes for the référent's pages: binômes by mentee (caseload-scoped lists and indicators)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 21:45:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_pair_mentee_status', 'pair', ['mentee_id', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_pair_mentee_status', table_name='pair')
