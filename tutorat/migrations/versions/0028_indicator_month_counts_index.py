"""The monthly summary read from one index: (referent_id, month, kind, item, n)

The indicators page sums a référent's months of `indicator_month` (some 340 rows for twelve
months); with the primary key alone, each row was then looked up in the table for its count `n`.
This index holds `n` too: SQLite reads it as a covering index, PostgreSQL by an index-only scan
(0.23 -> 0.13 ms on the Gers base). Index only: no table rebuild, the triggers of migration 0026
are untouched.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 14:30:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_indicator_month_counts",
        "indicator_month",
        ["referent_id", "month", "kind", "item", "n"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_indicator_month_counts", table_name="indicator_month")
