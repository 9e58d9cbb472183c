"""Tutor applications keep the job title picked, carried to the tutor's profile at validation

Before, an application kept only the ROME code: a newly validated tutor started with the
métier's ROME label until they picked a job title on their profile. A column added with a
default: no table rebuild on SQLite (the pool triggers of migration 0021 stay).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 10:40:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "tutor_application",
        sa.Column("metier_title", sa.String(length=300), nullable=False, server_default=""),
    )


def downgrade():
    with op.batch_alter_table("tutor_application") as batch_op:
        batch_op.drop_column("metier_title")
