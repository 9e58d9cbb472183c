"""Waiting list for demandes: the status `waiting` (a live demande, one per mentee at most)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 02:00:00.000000

The check constraint on the demande's status and the partial unique index "one live demande per
mentee" are rebuilt with the new status. Downgrade puts waiting demandes back to `open` (with an
event saying so) before rebuilding them as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('open', 'proposed', 'matched', 'cancelled')"
NEW_STATUSES = "status IN ('open', 'waiting', 'proposed', 'matched', 'cancelled')"
OLD_LIVE = "status IN ('open', 'proposed')"
NEW_LIVE = "status IN ('open', 'waiting', 'proposed')"
INDEX = "uq_demande_ouverte_par_beneficiaire"


def _rebuild(statuses: str, old_live: str, live: str) -> None:
    with op.batch_alter_table("tutoring_request", schema=None) as batch_op:
        batch_op.drop_index(
            INDEX, sqlite_where=sa.text(old_live), postgresql_where=sa.text(old_live)
        )
        batch_op.drop_constraint(batch_op.f("ck_tutoring_request_statut_connu"), type_="check")
    with op.batch_alter_table("tutoring_request", schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f("ck_tutoring_request_statut_connu"), statuses)
        batch_op.create_index(
            INDEX,
            ["mentee_id"],
            unique=True,
            sqlite_where=sa.text(live),
            postgresql_where=sa.text(live),
        )


def upgrade():
    _rebuild(NEW_STATUSES, OLD_LIVE, NEW_LIVE)


def downgrade():
    bind = op.get_bind()
    request = sa.table(
        "tutoring_request",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("updated_at", sa.DateTime),
    )
    event = sa.table(
        "status_event",
        sa.column("entity", sa.String),
        sa.column("entity_id", sa.Integer),
        sa.column("at", sa.DateTime),
        sa.column("from_status", sa.String),
        sa.column("to_status", sa.String),
        sa.column("reason", sa.Text),
    )
    waiting = bind.execute(sa.select(request.c.id).where(request.c.status == "waiting")).scalars()
    now = datetime.now(UTC)
    rows = [
        {
            "entity": "request",
            "entity_id": request_id,
            "at": now,
            "from_status": "waiting",
            "to_status": "open",
            "reason": "Liste d'attente supprimée (retour à une version antérieure)",
        }
        for request_id in waiting
    ]
    if rows:
        op.bulk_insert(event, rows)
    op.execute(sa.update(request).where(request.c.status == "waiting").values(status="open"))
    _rebuild(OLD_STATUSES, NEW_LIVE, OLD_LIVE)
