"""The tutors' pool triggers back on user_account (SQLite): migration 0018 rebuilt the table

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 06:40:00.000000

SQLite rebuilds a table in batch mode and drops its triggers: after 0018 (user_account), a change to
an account (a tutor deactivated, renamed) no longer changed the pool's token, so a worker kept
ranking from its old pool (tests/tutorat/test_pool_refresh.py). Put back migration 0006's triggers
on every table of POOL_TABLES, if missing. PostgreSQL keeps its triggers through ALTER TABLE.
"""

from __future__ import annotations

from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

POOL_TABLES = ("commune", "tutor_profile", "user_account")


def _pool_triggers() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in POOL_TABLES:
        for operation in ("insert", "update", "delete"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS pool_version_{table}_{operation} "
                f"AFTER {operation.upper()} ON {table} BEGIN "
                "UPDATE pool_version SET token = lower(hex(randomblob(16))) WHERE id = 1; END"
            )


def upgrade():
    _pool_triggers()


def downgrade():
    # The triggers are migration 0006's: they stay (0018's downgrade rebuilds user_account again,
    # and this upgrade puts them back).
    pass
