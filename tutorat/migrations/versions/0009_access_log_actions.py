"""Access-log actions in English (view, modify, login…); their French labels are shown

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 00:15:00.000000

A data migration only: the column stays a string (no check constraint), every line is rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ACTIONS = {
    "voir": "view",
    "modifier": "modify",
    "connexion": "login",
    "echec_connexion": "login_failed",
    "refus": "denied",
    "demande_effacement": "erasure_request",
    "desactivation": "deactivation",
}


def _rewrite(mapping: dict[str, str]) -> None:
    log = sa.table("access_log", sa.column("action", sa.String))
    for old, new in mapping.items():
        op.execute(sa.update(log).where(log.c.action == old).values(action=new))


def upgrade():
    _rewrite(ACTIONS)


def downgrade():
    _rewrite({new: old for old, new in ACTIONS.items()})
