"""Stored codes in English (the glossary): topics, obstacles, meeting modes, reasons, outcomes, contracts,
rights, ROME levels in explanations, and the entity of status events; French labels unchanged

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 00:00:00.000000

Every stored value is rewritten, lists of codes (comma-separated) and the codes kept in a
proposal's explanation (JSON) included; the two check constraints that name codes are rebuilt.
The tables of this revision are frozen here: later changes to `tutorat/vocab.py` do not change
what this migration does. Downgrade writes the French codes back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OBSTACLES = {
    "mobilite": "mobility",
    "garde_enfants": "childcare",
    "sante": "health",
    "logement": "housing",
    "numerique": "digital_access",
    "langue": "french_language",
    "confiance": "self_confidence",
    "droits": "rights_access",
}
TOPICS = {
    "recherche_emploi": "job_search",
    "entretien": "job_interview",
    "confiance": "self_confidence",
    "mobilite": "mobility",
    "garde_enfants": "childcare",
    "droits": "rights",
    "formation": "training",
    "metier": "discover_occupation",
}
MEETING_MODES = {"presentiel": "in_person", "telephone": "phone"}
# Refusal and end reasons, the system's expiry reason included.
REASONS = {
    "indisponible": "unavailable",
    "trop_loin": "too_far",
    "metier": "wrong_occupation",
    "pas_pret": "not_ready",
    "autre": "other",
    "sans_reponse": "no_answer",
}
OUTCOMES = {
    "emploi": "job",
    "formation": "training",
    "droits": "rights",
    "mobilite": "mobility",
    "garde": "childcare",
    "sortie_rsa": "left_rsa",
    "arret": "stopped",
}
CONTRACT_TYPES = {
    "cdi": "permanent",
    "cdd": "fixed_term",
    "interim": "temporary",
    "alternance": "work_study",
    "iae": "integration",
    "independant": "self_employed",
    "autre": "other",
}
RIGHTS = {
    "prime_activite": "activity_bonus",
    "css": "health_cover",
    "aide_mobilite": "mobility_aid",
    "aide_garde": "childcare_aid",
    "logement": "housing_aid",
    "autre": "other",
}
ROME_LEVELS = {"metier": "occupation", "domaine": "domain", "grand_domaine": "broad_domain"}
ENTITIES = {"demande": "request", "binome": "pair"}

# (table, column, codes, is a comma-separated list)
COLUMNS = [
    ("tutoring_request", "topics", TOPICS, True),
    ("tutoring_request", "meeting_modes", MEETING_MODES, True),
    ("meeting", "mode", MEETING_MODES, False),
    ("meeting", "topics", TOPICS, True),
    ("mentee_profile", "obstacles", OBSTACLES, True),
    ("tutor_profile", "obstacles", OBSTACLES, True),
    ("pair", "decline_reason", REASONS, False),
    ("pair", "end_reason", REASONS, False),
    ("pair", "outcome", OUTCOMES, False),
    ("pair", "outcome_contract", CONTRACT_TYPES, False),
    ("pair", "outcome_rights", RIGHTS, True),
    ("status_event", "entity", ENTITIES, False),
]
# The check constraints that name codes: (table, name, French, English).
CONSTRAINTS = [
    (
        "meeting",
        "ck_meeting_mode_connu",
        "mode IN ('presentiel', 'telephone', 'video')",
        "mode IN ('in_person', 'phone', 'video')",
    ),
    (
        "status_event",
        "ck_status_event_entite_connue",
        "entity IN ('demande', 'binome')",
        "entity IN ('request', 'pair')",
    ),
]
# The primary key of each table rewritten, when it is not `id`.
KEYS = {"mentee_profile": "user_id", "tutor_profile": "user_id"}


def _translate(value, codes: dict[str, str], is_list: bool):
    if value is None:
        return None
    if is_list:
        return ",".join(codes.get(c, c) for c in value.split(",")) if value else value
    return codes.get(value, value)


def _explanation(value, reverse: bool):
    if not isinstance(value, dict):
        return value
    levels = {v: k for k, v in ROME_LEVELS.items()} if reverse else ROME_LEVELS
    obstacles = {v: k for k, v in OBSTACLES.items()} if reverse else OBSTACLES
    out = dict(value)
    if out.get("rome_level") in levels:
        out["rome_level"] = levels[out["rome_level"]]
    if isinstance(out.get("common_obstacles"), list):
        out["common_obstacles"] = [obstacles.get(c, c) for c in out["common_obstacles"]]
    return out


def _update(table: sa.TableClause, key: str, column: str, changes: list[dict]) -> None:
    if changes:
        op.get_bind().execute(
            sa.update(table)
            .where(table.c[key] == sa.bindparam("k"))
            .values({column: sa.bindparam("v")}),
            changes,
        )


def _rewrite(reverse: bool) -> None:
    bind = op.get_bind()
    for table_name, column, codes, is_list in COLUMNS:
        mapping = {v: k for k, v in codes.items()} if reverse else codes
        key = KEYS.get(table_name, "id")
        table = sa.table(table_name, sa.column(key, sa.Integer), sa.column(column, sa.Text))
        col = table.c[column]
        rows = bind.execute(sa.select(table.c[key], col).where(col.is_not(None), col != "")).all()
        _update(
            table,
            key,
            column,
            [
                {"k": k, "v": new}
                for k, old in rows
                if (new := _translate(old, mapping, is_list)) != old
            ],
        )
    pair = sa.table("pair", sa.column("id", sa.Integer), sa.column("explanation", sa.JSON))
    rows = bind.execute(sa.select(pair.c.id, pair.c.explanation)).all()
    _update(
        pair,
        "id",
        "explanation",
        [{"k": k, "v": new} for k, old in rows if (new := _explanation(old, reverse)) != old],
    )


def _constraints(which: int) -> None:
    for table, name, *texts in CONSTRAINTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(batch_op.f(name), texts[which])


def _drop_constraints() -> None:
    for table, name, *_ in CONSTRAINTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(name), type_="check")


def upgrade():
    _drop_constraints()
    _rewrite(reverse=False)
    _constraints(1)


def downgrade():
    _drop_constraints()
    _rewrite(reverse=True)
    _constraints(0)
