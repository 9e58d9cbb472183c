"""Check-ins: who recorded an answer given by phone (the référent, on the person's behalf)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_check_in_recorded_by_id_user_account'),
            'user_account',
            ['recorded_by_id'],
            ['id'],
        )


def downgrade():
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_check_in_recorded_by_id_user_account'), type_='foreignkey'
        )
        batch_op.drop_column('recorded_by_id')
