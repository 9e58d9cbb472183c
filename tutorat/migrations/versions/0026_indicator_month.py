"""The indicators' monthly summary: what the indicators page counts, per référent and month, kept by triggers

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 10:45:00

The indicators page (/indicateurs/) counted, over the period, the demandes created, the proposals
and their answers, the delays to the first proposal and to the binôme actif (two min(at) over
status_event per demande), the meetings of the binômes started and the outcomes of those ended,
in eight aggregate queries (about 3 ms for a référent, 100 ms for the département on the Gers
base). `indicator_month` holds those counts per référent of the mentee (0: none) and month, one
row per (kind, key), and the page sums the months of the period.

The rows are kept by the database, in the transaction of every write: each table the counts read
has a BEFORE trigger that subtracts the contributions of the rows it is about to change and an
AFTER trigger that adds them back once changed (the same SELECT, CONTRIBUTIONS below, with -1 then
+1), so every writer — services, imports, the Gers generator, a transfer of caseload, a purge —
keeps them exact without knowing they exist. The backfill is that SELECT over every row.

Kinds (month, key → n):
- created: month of tutoring_request.created_at; '' → demandes created;
- to_proposal, to_active: month of the demande's creation; whole days to its first event to
  'proposed' / 'matched' (may be negative: the page counts it as 0) → demandes;
- answer: month of pair.proposed_at; 'status|decline_reason' → proposals (their sum: proposals);
- meetings: month of pair.confirmed_at; meetings not contested → binômes;
- end, none: month of pair.ended_at of an ended binôme; '' → binômes ended, ended without outcome;
- outcome, stop: same month; pair_outcome.outcome / .reason → outcome rows.

SQLite drops a table's triggers when a migration rebuilds it in batch mode: a migration that
rebuilds one of TRIGGERS' tables must create its triggers again (tests/tutorat/test_indicator_summary.py
checks the counts after the migrations).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def _ym(dialect: str, value: str) -> str:
    if dialect == "postgresql":
        return f"to_char(({value}) AT TIME ZONE 'UTC', 'YYYY-MM')"
    return f"strftime('%Y-%m', {value})"


def _days(dialect: str, start: str, end: str) -> str:
    if dialect == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({end}) - ({start})) / 86400) AS INTEGER)"
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


_REF = "COALESCE(mp.referent_id, 0)"
_MP = "LEFT JOIN mentee_profile mp ON mp.user_id = {alias}.mentee_id"


def _request_parts(d: str, where: str, kinds: set[str]) -> list[str]:
    """Contributions of the demandes `r` selected by `where`."""
    parts = []
    if "created" in kinds:
        parts.append(
            f"SELECT {_REF} AS referent_id, {_ym(d, 'r.created_at')} AS month, "
            "'created' AS kind, '' AS item, COUNT(*) AS n "
            f"FROM tutoring_request r {_MP.format(alias='r')} WHERE {where} "
            f"GROUP BY {_REF}, {_ym(d, 'r.created_at')}"
        )
    for kind, status in (("to_proposal", "proposed"), ("to_active", "matched")):
        if kind not in kinds:
            continue
        first = (
            "(SELECT MIN(e.at) FROM status_event e WHERE e.entity = 'request' "
            f"AND e.entity_id = r.id AND e.to_status = '{status}')"
        )
        parts.append(
            f"SELECT referent_id, month, '{kind}' AS kind, CAST(days AS VARCHAR(12)) AS item, "
            "COUNT(*) AS n FROM ("
            f"SELECT {_REF} AS referent_id, {_ym(d, 'r.created_at')} AS month, "
            f"{_days(d, 'r.created_at', first)} AS days "
            f"FROM tutoring_request r {_MP.format(alias='r')} WHERE {where}) x "
            "WHERE days IS NOT NULL GROUP BY referent_id, month, days"
        )
    return parts


def _pair_parts(d: str, where: str, kinds: set[str]) -> list[str]:
    """Contributions of the binômes `p` selected by `where`."""
    parts = []
    mp = _MP.format(alias="p")
    if "answer" in kinds:
        key = "p.status || '|' || COALESCE(p.decline_reason, '')"
        parts.append(
            f"SELECT {_REF} AS referent_id, {_ym(d, 'p.proposed_at')} AS month, 'answer' AS kind, "
            f"{key} AS item, COUNT(*) AS n "
            f"FROM pair p {mp} WHERE ({where}) AND p.proposed_at IS NOT NULL "
            f"GROUP BY {_REF}, {_ym(d, 'p.proposed_at')}, {key}"
        )
    if "meetings" in kinds:
        held = (
            "(SELECT COUNT(*) FROM meeting m WHERE m.pair_id = p.id AND "
            "(m.mentee_confirmation IS NULL OR m.mentee_confirmation <> 'contested'))"
        )
        parts.append(
            f"SELECT referent_id, month, 'meetings' AS kind, CAST(held AS VARCHAR(12)) AS item, "
            "COUNT(*) AS n FROM ("
            f"SELECT {_REF} AS referent_id, {_ym(d, 'p.confirmed_at')} AS month, {held} AS held "
            f"FROM pair p {mp} WHERE ({where}) AND p.confirmed_at IS NOT NULL) x "
            "GROUP BY referent_id, month, held"
        )
    ended = f"({where}) AND p.status = 'ended' AND p.ended_at IS NOT NULL"
    month = _ym(d, "p.ended_at")
    if "end" in kinds:
        parts.append(
            f"SELECT {_REF} AS referent_id, {month} AS month, 'end' AS kind, '' AS item, "
            f"COUNT(*) AS n FROM pair p {mp} WHERE {ended} "
            f"GROUP BY {_REF}, {month}"
        )
    if "none" in kinds:
        parts.append(
            f"SELECT {_REF} AS referent_id, {month} AS month, 'none' AS kind, '' AS item, "
            f"COUNT(*) AS n FROM pair p {mp} WHERE {ended} "
            "AND NOT EXISTS (SELECT 1 FROM pair_outcome o WHERE o.pair_id = p.id) "
            f"GROUP BY {_REF}, {month}"
        )
    for kind, column, extra in (
        ("outcome", "o.outcome", ""),
        ("stop", "o.reason", " AND o.reason IS NOT NULL"),
    ):
        if kind in kinds:
            parts.append(
                f"SELECT {_REF} AS referent_id, {month} AS month, '{kind}' AS kind, {column} AS item, "
                "COUNT(*) AS n "
                f"FROM pair p JOIN pair_outcome o ON o.pair_id = p.id {mp} WHERE {ended}{extra} "
                f"GROUP BY {_REF}, {month}, {column}"
            )
    return parts


REQUEST_KINDS = {"created", "to_proposal", "to_active"}
PAIR_KINDS = {"answer", "meetings", "end", "none", "outcome", "stop"}


def _add(dialect: str, parts: list[str], sign: int) -> str:
    """Add (sign 1) or subtract (-1) the contributions selected by `parts` to the summary."""
    union = " UNION ALL ".join(parts)
    return (
        "INSERT INTO indicator_month (referent_id, month, kind, item, n) "
        f"SELECT referent_id, month, kind, item, {sign} * n FROM ({union}) s WHERE true "
        "ON CONFLICT (referent_id, month, kind, item) DO UPDATE SET n = indicator_month.n + excluded.n"
    )


# Each table the counts read: the columns whose change matters (UPDATE OF), a condition on the
# row (WHEN), and which contributions a row changes: (demandes or binômes, the column of `r` or `p`
# matched against the row's column, the kinds).
_SPECS = [
    ("tutoring_request", "created_at, mentee_id", "", [("r", "r.id", "id", REQUEST_KINDS)]),
    (
        "status_event",
        "entity, entity_id, to_status, at",
        "{row}.entity = 'request' AND {row}.to_status IN ('proposed', 'matched')",
        [("r", "r.id", "entity_id", {"to_proposal", "to_active"})],
    ),
    (
        "pair",
        "mentee_id, status, decline_reason, proposed_at, confirmed_at, ended_at",
        "",
        [("p", "p.id", "id", PAIR_KINDS)],
    ),
    ("meeting", "pair_id, mentee_confirmation", "", [("p", "p.id", "pair_id", {"meetings"})]),
    (
        "pair_outcome",
        "pair_id, outcome, reason",
        "",
        [("p", "p.id", "pair_id", {"none", "outcome", "stop"})],
    ),
    (
        "mentee_profile",
        "user_id, referent_id",
        "",
        [("r", "r.mentee_id", "user_id", REQUEST_KINDS), ("p", "p.mentee_id", "user_id", PAIR_KINDS)],
    ),
]
OPERATIONS = ("insert", "update", "delete")


def _rows_of(operation: str) -> list[str]:
    return {"insert": ["NEW"], "delete": ["OLD"], "update": ["OLD", "NEW"]}[operation]


def _statement(d: str, operation: str, contributions, sign: int) -> str:
    """The trigger's statement: the contributions of the rows the changed row points to (for an
    update, before and after: a meeting moved to another binôme changes both; each row once)."""
    parts = []
    for which, column, row_column, kinds in contributions:
        rows = ", ".join(f"{row}.{row_column}" for row in _rows_of(operation))
        where = f"{column} IN ({rows})"
        build = _request_parts if which == "r" else _pair_parts
        parts.extend(build(d, where, kinds))
    return _add(d, parts, sign)


def _when(when: str, operation: str) -> str:
    if not when:
        return ""
    return " OR ".join(f"({when.format(row=row)})" for row in _rows_of(operation))


def _parts(d: str, contributions, where: str) -> list[str]:
    parts = []
    for which, column, _, kinds in contributions:
        build = _request_parts if which == "r" else _pair_parts
        parts.extend(build(d, f"{column} IN ({where})", kinds))
    return parts


def _create_sqlite_triggers() -> None:
    """SQLite runs a row's AFTER trigger right after that row: subtract before, add after."""
    for table, columns, when, contributions in _SPECS:
        for operation in OPERATIONS:
            of = f" OF {columns}" if operation == "update" else ""
            condition = _when(when, operation)
            for timing, sign in (("before", -1), ("after", 1)):
                op.execute(
                    f"CREATE TRIGGER indicator_month_{table}_{operation}_{timing} "
                    f"{timing.upper()} {operation.upper()}{of} ON {table} "
                    f"{f'WHEN {condition} ' if condition else ''}"
                    f"BEGIN {_statement('sqlite', operation, contributions, sign)}; END"
                )


def _create_postgresql_triggers() -> None:
    """PostgreSQL runs the AFTER row triggers of a statement at its end, and its BEFORE row
    triggers see the rows the statement already changed: two meetings of one binôme inserted by
    one statement would subtract two different states. So a BEFORE row trigger notes the binôme
    or demande in indicator_month_pending and subtracts its contributions the first time only
    (the state before the statement); an AFTER statement trigger adds the contributions of the
    noted ones (the state after) and forgets them."""
    d = "postgresql"
    for table, columns, when, contributions in _SPECS:
        row_column = contributions[0][2]
        for operation in OPERATIONS:
            name = f"indicator_month_{table}_{operation}_before"
            ids = ", ".join(f"({row}.{row_column})" for row in _rows_of(operation))
            marked = (
                "WITH marked AS (INSERT INTO indicator_month_pending (tag, id) "
                f"SELECT DISTINCT '{table}', id FROM (VALUES {ids}) v(id) WHERE id IS NOT NULL "
                "ON CONFLICT DO NOTHING RETURNING id) "
            )
            body = marked + _add(d, _parts(d, contributions, "SELECT id FROM marked"), -1)
            returned = "OLD" if operation == "delete" else "NEW"
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {body}; RETURN {returned}; END $$"
            )
            condition = _when(when, operation)
            of = f" OF {columns}" if operation == "update" else ""
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation.upper()}{of} ON {table} FOR EACH ROW "
                f"{f'WHEN ({condition}) ' if condition else ''}EXECUTE FUNCTION {name}()"
            )
        name = f"indicator_month_{table}_after"
        pending = f"SELECT id FROM indicator_month_pending WHERE tag = '{table}'"
        # Most statements note nothing (a cascade runs one per parent row): one index probe then.
        body = (
            f"IF EXISTS ({pending}) THEN "
            + _add(d, _parts(d, contributions, pending), 1)
            + f"; DELETE FROM indicator_month_pending WHERE tag = '{table}'; END IF"
        )
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body}; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OF {columns} OR DELETE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )


def _drop_triggers(d: str) -> None:
    for table, *_ in _SPECS:
        if d == "postgresql":
            for name in [f"indicator_month_{table}_{o}_before" for o in OPERATIONS] + [
                f"indicator_month_{table}_after"
            ]:
                op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            for operation in OPERATIONS:
                for timing in ("before", "after"):
                    op.execute(f"DROP TRIGGER IF EXISTS indicator_month_{table}_{operation}_{timing}")


def upgrade():
    op.create_table(
        "indicator_month",
        sa.Column("referent_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "referent_id", "month", "kind", "item", name=op.f("pk_indicator_month")
        ),
    )
    # PostgreSQL's triggers only (empty between statements); the same table on SQLite.
    op.create_table(
        "indicator_month_pending",
        sa.Column("tag", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("tag", "id", name=op.f("pk_indicator_month_pending")),
    )
    d = op.get_bind().dialect.name
    if d == "postgresql":
        _create_postgresql_triggers()
    else:
        _create_sqlite_triggers()
    parts = _request_parts(d, "true", REQUEST_KINDS) + _pair_parts(d, "true", PAIR_KINDS)
    op.execute(_add(d, parts, 1))


def downgrade():
    d = op.get_bind().dialect.name
    _drop_triggers(d)
    op.drop_table("indicator_month_pending")
    op.drop_table("indicator_month")
