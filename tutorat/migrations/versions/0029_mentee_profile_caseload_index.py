"""A référent's mentees and their communes read from one index: (referent_id, user_id, commune_code)

Every caseload statement starts from a référent's mentees (some 160 at Gers scale); the
dashboard's reads them four times (binômes, demandes, territories, missing addresses). With an
index on `referent_id` alone, each read then fetched the 160 rows from the table, where they lie
on some 80 different pages. This index holds the mentee's id and commune too: SQLite reads it as a
covering index, PostgreSQL by an index-only scan. It replaces the index on `referent_id`, which
is its first column. Index only: no table rebuild.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 16:20:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_mentee_profile_caseload",
        "mentee_profile",
        ["referent_id", "user_id", "commune_code"],
        unique=False,
    )
    op.drop_index("ix_mentee_profile_referent_id", table_name="mentee_profile")


def downgrade():
    op.create_index(
        "ix_mentee_profile_referent_id", "mentee_profile", ["referent_id"], unique=False
    )
    op.drop_index("ix_mentee_profile_caseload", table_name="mentee_profile")
