"""Several outcomes per binôme (table pair_outcome), with the reason when it stops without result

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 02:15:00.000000

`pair.outcome` (one code) becomes rows of `pair_outcome`, one per outcome (a job and leaving the
RSA); the "stopped" row carries why the binôme stopped without result (abandon, désaccord…).
Downgrade keeps one outcome per binôme: the first in the vocabulary's order.

`pair` is not rebuilt (SQLite would have to drop it, which the meetings' foreign keys forbid): its
column goes by a plain ALTER TABLE … DROP COLUMN (SQLite 3.35 or later).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The vocabulary's order at this revision (the downgrade keeps the first outcome of a binôme).
OUTCOMES = ("job", "training", "rights", "mobility", "childcare", "left_rsa", "stopped")
STOP_REASONS = ("dropped_out", "disagreement", "moved", "health", "other")
REASON_CHECK = "reason IS NULL OR (outcome = 'stopped' AND reason IN ({}))".format(
    ", ".join(f"'{code}'" for code in STOP_REASONS)
)


def upgrade():
    op.create_table(
        "pair_outcome",
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.CheckConstraint(REASON_CHECK, name=op.f("ck_pair_outcome_raison_d_arret_connue")),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_pair_outcome_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pair_id", "outcome", name=op.f("pk_pair_outcome")),
    )
    op.execute(
        "INSERT INTO pair_outcome (pair_id, outcome) "
        "SELECT id, outcome FROM pair WHERE outcome IS NOT NULL"
    )
    op.execute("ALTER TABLE pair DROP COLUMN outcome")


def downgrade():
    op.execute("ALTER TABLE pair ADD COLUMN outcome VARCHAR(30)")
    order = " ".join(f"WHEN '{code}' THEN {i}" for i, code in enumerate(OUTCOMES))
    op.execute(
        "UPDATE pair SET outcome = ("
        "SELECT o.outcome FROM pair_outcome o WHERE o.pair_id = pair.id "
        f"ORDER BY CASE o.outcome {order} ELSE {len(OUTCOMES)} END, o.outcome LIMIT 1)"
    )
    op.drop_table("pair_outcome")
