"""A binôme's last meeting date kept on the binôme (pair.last_meeting_date), by triggers on meeting

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 14:00:00

The référent's dashboard evaluated `max(meeting.date)` of every binôme of the caseload three
times per row (the column shown and the « sans rencontre » rule, followup.silent_pair). The date is
now a column of the binôme, kept by the database in the transaction of every write to meeting
(insert, delete, change of its date or of its binôme), so every writer — the meeting services,
their corrections, the Gers generator, a purge — keeps it right without knowing it exists. The
backfill is the same max over every binôme.

PostgreSQL: the trigger locks the binôme's row before it reads the meetings, so that two
transactions adding meetings to one binôme at once each read the other's once it has committed
(READ COMMITTED: each statement of the function takes a new snapshot).

SQLite drops a table's triggers when a migration rebuilds it in batch mode: a migration that
rebuilds meeting must create them again (tests/tutorat/test_followup.py checks the column).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

_RECOMPUTE = (
    "UPDATE pair SET last_meeting_date = "
    "(SELECT max(m.date) FROM meeting m WHERE m.pair_id = {row}.pair_id) WHERE id = {row}.pair_id"
)
# (operation, the rows whose binôme is recomputed)
_SQLITE = (
    ("insert", "INSERT", ("NEW",)),
    ("delete", "DELETE", ("OLD",)),
    ("update", "UPDATE OF date, pair_id", ("OLD", "NEW")),
)


def upgrade():
    op.add_column("pair", sa.Column("last_meeting_date", sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION pair_last_meeting() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP <> 'INSERT' THEN "
            "PERFORM 1 FROM pair WHERE id = OLD.pair_id FOR UPDATE; "
            + _RECOMPUTE.format(row="OLD")
            + "; END IF; "
            "IF TG_OP <> 'DELETE' THEN "
            "PERFORM 1 FROM pair WHERE id = NEW.pair_id FOR UPDATE; "
            + _RECOMPUTE.format(row="NEW")
            + "; END IF; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER pair_last_meeting AFTER INSERT OR DELETE OR UPDATE OF date, pair_id "
            "ON meeting FOR EACH ROW EXECUTE FUNCTION pair_last_meeting()"
        )
    else:
        for name, event, rows in _SQLITE:
            body = "; ".join(_RECOMPUTE.format(row=row) for row in rows)
            op.execute(
                f"CREATE TRIGGER pair_last_meeting_{name} AFTER {event} ON meeting "
                f"BEGIN {body}; END"
            )
    op.execute(
        "UPDATE pair SET last_meeting_date = "
        "(SELECT max(m.date) FROM meeting m WHERE m.pair_id = pair.id)"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS pair_last_meeting ON meeting")
        op.execute("DROP FUNCTION IF EXISTS pair_last_meeting()")
    else:
        for name, *_ in _SQLITE:
            op.execute(f"DROP TRIGGER IF EXISTS pair_last_meeting_{name}")
    # ALTER TABLE … DROP COLUMN, not a batch rebuild (which would drop pair's triggers on SQLite).
    op.drop_column("pair", "last_meeting_date")
