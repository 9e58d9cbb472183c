"""Meetings indexed by binôme and date: a binôme's last meeting is one index seek

The référent's dashboard evaluates the date of the last meeting of every live binôme of the
caseload (the « sans rencontre » alert), several times per page; with an index on pair_id alone,
each evaluation read every meeting of the binôme. The new index (pair_id, date) replaces the one
on pair_id (its prefix serves the same lookups). Indexes only: no table rebuild, so the triggers
of migration 0021 are untouched on SQLite.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 07:00:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_meeting_pair_date", "meeting", ["pair_id", "date"], unique=False)
    op.drop_index("ix_meeting_pair_id", table_name="meeting")


def downgrade():
    op.create_index("ix_meeting_pair_id", "meeting", ["pair_id"], unique=False)
    op.drop_index("ix_meeting_pair_date", table_name="meeting")
