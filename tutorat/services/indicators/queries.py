"""The indicators' queries: every figure aggregated in SQL, for the département or one caseload."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    Commune,
    EventEntity,
    IndicatorMonth,
    Meeting,
    MenteeProfile,
    Pair,
    PairOutcome,
    PairStatus,
    StatusEvent,
    TutoringRequest,
    TutoringRequestStatus,
    TutorProfile,
    User,
)
from tutorat.models.pairs import LIVE_PAIR_STATUSES
from tutorat.services.indicators.report import (
    ANSWER_GROUPS,
    OUTCOME_ENDED,
    OUTCOME_NONE,
    OUTCOME_STOP_PREFIX,
    Delay,
    MapCommune,
    Period,
    Report,
    Territory,
)

# ---- Dialect-specific SQL: whole days between two timestamps, and the month of a timestamp ----


class whole_days(FunctionElement):
    """Whole days elapsed from the first timestamp to the second (NULL if either is NULL)."""

    type = Integer()
    name = "whole_days"
    inherit_cache = True


@compiles(whole_days)
def _whole_days_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


@compiles(whole_days, "postgresql")
def _whole_days_postgresql(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({end}) - ({start})) / 86400) AS INTEGER)"


class year_month(FunctionElement):
    """'YYYY-MM' of a timestamp, in UTC."""

    type = String()
    name = "year_month"
    inherit_cache = True


@compiles(year_month)
def _year_month_sqlite(element, compiler, **kw):
    (value,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"strftime('%Y-%m', {value})"


@compiles(year_month, "postgresql")
def _year_month_postgresql(element, compiler, **kw):
    (value,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"to_char(({value}) AT TIME ZONE 'UTC', 'YYYY-MM')"


# ---- Queries ----
#
# Each statement is built once per process and per kind of scope (a référent's caseload, or the
# whole département), with the period and the référent as bound parameters: building a statement
# and its cache key costs about as much as running it (bench/README.md, "Pages web").

_STATEMENTS: dict[tuple[str, bool], Select | CompoundSelect] = {}


@dataclass(frozen=True)
class _Scope:
    """Whose figures (None: the département) over which period: the parameters of every query."""

    referent_id: int | None
    start: datetime
    end: datetime

    def run(self, name: str, build: Callable[[bool], Select | CompoundSelect]):
        """Execute the statement `name`, built by `build(scoped)` the first time only."""
        key = (name, self.referent_id is not None)
        stmt = _STATEMENTS.get(key)
        if stmt is None:
            stmt = _STATEMENTS.setdefault(key, build(key[1]))
        params = {"referent_id": self.referent_id, "start": self.start, "end": self.end}
        # Plain columns: Core rows on the session's connection, no ORM loading.
        return db.session.connection().execute(stmt, params)


def _scoped(stmt: Select, mentee_col, scoped: bool) -> Select:
    """Restrict `stmt` to the caseload of :referent_id (unless the whole département)."""
    if not scoped:
        return stmt
    caseload = select(MenteeProfile.user_id).where(
        MenteeProfile.referent_id == bindparam("referent_id")
    )
    return stmt.where(mentee_col.in_(caseload))


def _constant_in(column, values):
    """`column IN ('a', 'b')` with the values written in the statement: a list given as a
    parameter is "expanding", and SQLAlchemy rewrites the statement's text at every execution to
    spell it out. The values are the code's own (enums, kinds), never input."""
    return column.in_([literal_column(f"'{v!s}'") for v in sorted(values)])


def _in(column):
    """`column` in the period [:start, :end)."""
    return (column >= bindparam("start")) & (column < bindparam("end"))


def _by_month(scope: _Scope) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for i, (column, mentee_col) in enumerate(
        (
            (TutoringRequest.created_at, TutoringRequest.mentee_id),
            (Pair.proposed_at, Pair.mentee_id),
        )
    ):

        def build(scoped: bool, column=column, mentee_col=mentee_col) -> Select:
            month = year_month(column)
            return _scoped(
                select(month, func.count()).where(_in(column)).group_by(month), mentee_col, scoped
            )

        for key, n in scope.run(f"by_month_{i}", build):
            out.setdefault(key, [0, 0])[i] = n
    return {k: (v[0], v[1]) for k, v in out.items()}


def _answers_and_reasons(scope: _Scope):
    def build(scoped: bool) -> Select:
        return _scoped(
            select(Pair.status, Pair.decline_reason, func.count())
            .where(_in(Pair.proposed_at))
            .group_by(Pair.status, Pair.decline_reason),
            Pair.mentee_id,
            scoped,
        )

    answers = dict.fromkeys(ANSWER_GROUPS, 0)
    group_of = {s: key for key, (_, statuses) in ANSWER_GROUPS.items() for s in statuses}
    reasons: dict[str | None, list[int]] = {}
    for status, reason, n in scope.run("answers", build):
        if status in group_of:
            answers[group_of[status]] += n
        if status in (PairStatus.DECLINED, PairStatus.EXPIRED):
            if status == PairStatus.EXPIRED and reason is None:
                reason = vocab.EXPIRY_REASON[0]
            reasons.setdefault(reason, [0, 0])[0 if status == PairStatus.DECLINED else 1] += n
    return answers, {k: (v[0], v[1]) for k, v in reasons.items()}


def _first_event(to_status: TutoringRequestStatus):
    """When the demande first reached `to_status` (its status events, through the indexed entity)."""
    return (
        select(func.min(StatusEvent.at))
        .where(
            StatusEvent.entity == EventEntity.REQUEST,
            StatusEvent.entity_id == TutoringRequest.id,
            StatusEvent.to_status == to_status,
        )
        .correlate(TutoringRequest)
        .scalar_subquery()
    )


_TO_PROPOSAL = "De la demande à la première proposition"
_TO_ACTIVE = "De la demande au binôme actif"


def _delays(scope: _Scope) -> tuple[Delay, Delay]:
    def build(scoped: bool) -> Select:
        per_request = _scoped(
            select(
                whole_days(
                    TutoringRequest.created_at, _first_event(TutoringRequestStatus.PROPOSED)
                ).label("to_proposal"),
                whole_days(
                    TutoringRequest.created_at, _first_event(TutoringRequestStatus.MATCHED)
                ).label("to_active"),
            ).where(_in(TutoringRequest.created_at)),
            TutoringRequest.mentee_id,
            scoped,
        ).subquery()
        return select(per_request.c.to_proposal, per_request.c.to_active, func.count()).group_by(
            per_request.c.to_proposal, per_request.c.to_active
        )

    created = 0
    to_proposal: Counter[int] = Counter()
    to_active: Counter[int] = Counter()
    for d1, d2, n in scope.run("delays", build):
        created += n
        if d1 is not None:
            to_proposal[max(int(d1), 0)] += n
        if d2 is not None:
            to_active[max(int(d2), 0)] += n
    return (
        Delay(_TO_PROPOSAL, created, dict(to_proposal)),
        Delay(_TO_ACTIVE, created, dict(to_active)),
    )


def _meetings(scope: _Scope) -> dict[int, int]:
    def build(scoped: bool) -> Select:
        n_meetings = (
            select(func.count(Meeting.id))
            .where(
                Meeting.pair_id == Pair.id,
                or_(
                    Meeting.mentee_confirmation.is_(None),
                    Meeting.mentee_confirmation != "contested",
                ),
            )
            .correlate(Pair)
            .scalar_subquery()
        )
        per_pair = _scoped(
            select(n_meetings.label("n")).where(_in(Pair.confirmed_at)), Pair.mentee_id, scoped
        ).subquery()
        return select(per_pair.c.n, func.count()).group_by(per_pair.c.n)

    return {int(k): n for k, n in scope.run("meetings", build)}


def _outcomes(scope: _Scope) -> dict[str | None, int]:
    """Binômes ended in the period: how many, and how many per outcome (a binôme may have several)."""

    def build(scoped: bool) -> CompoundSelect:
        ended = and_(Pair.status == PairStatus.ENDED, _in(Pair.ended_at))
        has_outcome = select(PairOutcome.pair_id).where(PairOutcome.pair_id == Pair.id).exists()
        parts = [
            select(literal_column(f"'{OUTCOME_ENDED}'").label("code"), func.count()).where(ended),
            select(literal_column(f"'{OUTCOME_NONE}'"), func.count()).where(ended, ~has_outcome),
            select(PairOutcome.outcome, func.count())
            .join(Pair, Pair.id == PairOutcome.pair_id)
            .where(ended)
            .group_by(PairOutcome.outcome),
            select(
                literal_column(f"'{OUTCOME_STOP_PREFIX}'", String) + PairOutcome.reason,
                func.count(),
            )
            .join(Pair, Pair.id == PairOutcome.pair_id)
            .where(ended, PairOutcome.reason.is_not(None))
            .group_by(PairOutcome.reason),
        ]
        return union_all(*(_scoped(part, Pair.mentee_id, scoped) for part in parts))

    return {key: n for key, n in scope.run("outcomes", build)}


# Kind of the rows that count tutors, read with the monthly summary (below) or alone.
_TUTORS = "tutors"


def _tutor_classes_stmt(scoped: bool) -> Select:
    """The tutors of the binômes (of the caseload, or of the département), counted per class, in
    one pass over their binômes: 3 × (a binôme live today) + (binômes ever confirmed, 2 for more
    than one). Rows shaped as the summary's: ('', 'tutors', class, tutors)."""
    live = case((_constant_in(Pair.status, LIVE_PAIR_STATUSES), 1), else_=0)
    confirmed = case((Pair.confirmed_at.is_not(None), 1), else_=0)
    per_tutor = _scoped(
        select(func.max(live).label("live"), func.sum(confirmed).label("confirmed")).group_by(
            Pair.tutor_id
        ),
        Pair.mentee_id,
        scoped,
    ).subquery()
    tutor_class = cast(
        per_tutor.c.live * 3 + case((per_tutor.c.confirmed > 1, 2), else_=per_tutor.c.confirmed),
        String,
    )
    return select(
        literal("", String), literal(_TUTORS, String), tutor_class, func.count()
    ).group_by(tutor_class)


def _tutor_figures(classes: dict[int, int]) -> tuple[int, int, int]:
    """(tutors with a binôme live today, tutors with a binôme ever confirmed, with more than one)."""
    live = sum(n for c, n in classes.items() if c >= 3)
    with_pair = sum(n for c, n in classes.items() if c % 3)
    repeat = sum(n for c, n in classes.items() if c % 3 == 2)
    return live, with_pair, repeat


def _tutors(scope: _Scope) -> tuple[int, int, int]:
    rows = scope.run(_TUTORS, _tutor_classes_stmt)
    return _tutor_figures({int(item): n for _, _, item, n in rows})


# ---- The monthly summary (table indicator_month, kept by the triggers of migration 0026) ----


def _summary_stmt(scoped: bool) -> CompoundSelect:
    """The period's months of the summary, summed: per month for the demandes created and the
    proposals (the chart by month), over the whole period for the other kinds; and the tutors'
    classes (`_tutor_classes_stmt`), read in the same statement."""
    im = IndicatorMonth
    monthly = case((_constant_in(im.kind, ("created", "answer")), im.month), else_="")
    stmt = (
        select(monthly, im.kind, im.item, func.sum(im.n))
        .where(im.month >= bindparam("first_month"), im.month <= bindparam("last_month"))
        .group_by(monthly, im.kind, im.item)
        .having(func.sum(im.n) != 0)
    )
    if scoped:
        stmt = stmt.where(im.referent_id == bindparam("referent_id"))
    return union_all(stmt, _tutor_classes_stmt(scoped))


def summary_covers(period: Period, today: date) -> bool:
    """Whether the summary's whole months are exactly the period: it starts on the first of a
    month and ends on the last day of a month, or today or later (nothing is dated in the future:
    services/workflow.py refuses such an event, and every date counted is that of an event)."""
    end = period.end
    last_day = (end + timedelta(days=1)).month != end.month
    return period.start.day == 1 and (last_day or end >= today)


def _from_summary(scope: _Scope, period: Period) -> dict:
    """The Report's period figures, read from the summary (same values as the queries below),
    and the tutors' (`tutors`)."""
    months = period.months
    key = ("summary", scope.referent_id is not None)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS.setdefault(key, _summary_stmt(key[1]))
    rows = (
        db.session.connection()
        .execute(
            stmt,
            {"referent_id": scope.referent_id, "first_month": months[0], "last_month": months[-1]},
        )
        .all()  # one fetch, not one per row
    )
    by_month: dict[str, list[int]] = {}
    answers = dict.fromkeys(ANSWER_GROUPS, 0)
    group_of = {s: k for k, (_, statuses) in ANSWER_GROUPS.items() for s in statuses}
    reasons: dict[str | None, list[int]] = {}
    delays: dict[str, Counter[int]] = {"to_proposal": Counter(), "to_active": Counter()}
    meetings: dict[int, int] = {}
    outcomes: dict[str | None, int] = {OUTCOME_ENDED: 0, OUTCOME_NONE: 0}
    tutor_classes: dict[int, int] = {}
    for month, kind, item, n in rows:
        if kind == "created":
            by_month.setdefault(month, [0, 0])[0] += n
        elif kind == "answer":
            by_month.setdefault(month, [0, 0])[1] += n
            status, _, reason = item.partition("|")
            if status in group_of:
                answers[group_of[status]] += n
            if status in (PairStatus.DECLINED, PairStatus.EXPIRED):
                code: str | None = reason or None
                if status == PairStatus.EXPIRED and code is None:
                    code = vocab.EXPIRY_REASON[0]
                reasons.setdefault(code, [0, 0])[0 if status == PairStatus.DECLINED else 1] += n
        elif kind in delays:
            delays[kind][max(int(item), 0)] += n
        elif kind == "meetings":
            meetings[int(item)] = n
        elif kind == "end":
            outcomes[OUTCOME_ENDED] = n
        elif kind == "none":
            outcomes[OUTCOME_NONE] = n
        elif kind == "outcome":
            outcomes[item] = n
        elif kind == "stop":
            outcomes[OUTCOME_STOP_PREFIX + item] = n
        elif kind == _TUTORS:
            tutor_classes[int(item)] = n
    created = sum(c for c, _ in by_month.values())
    return {
        "by_month": {k: (v[0], v[1]) for k, v in by_month.items()},
        "answers": answers,
        "reasons": {k: (v[0], v[1]) for k, v in reasons.items()},
        "to_proposal": Delay(_TO_PROPOSAL, created, dict(delays["to_proposal"])),
        "to_active": Delay(_TO_ACTIVE, created, dict(delays["to_active"])),
        "meetings": meetings,
        "outcomes": outcomes,
        "tutors": _tutor_figures(tutor_classes),
    }


def _from_tables(scope: _Scope) -> dict:
    """The Report's period figures, aggregated from the tables (any period)."""
    answers, reasons = _answers_and_reasons(scope)
    to_proposal, to_active = _delays(scope)
    return {
        "by_month": _by_month(scope),
        "answers": answers,
        "reasons": reasons,
        "to_proposal": to_proposal,
        "to_active": to_active,
        "meetings": _meetings(scope),
        "outcomes": _outcomes(scope),
        "tutors": _tutors(scope),
    }


_TERRITORY_KEYS = {
    "territory": (Commune.canton_code, Commune.epci_siren),
    "commune": (Commune.code_insee,),
}


def _open_requests_by(kind: str, scope: _Scope) -> dict[tuple, int]:
    """Open demandes per canton and EPCI, or per commune (None: unknown commune)."""
    keys = _TERRITORY_KEYS[kind]

    def build(scoped: bool) -> Select:
        stmt = (
            select(*keys, func.count())
            .select_from(TutoringRequest)
            .join(MenteeProfile, MenteeProfile.user_id == TutoringRequest.mentee_id)
            .outerjoin(Commune, Commune.code_insee == MenteeProfile.commune_code)
            .where(TutoringRequest.status == TutoringRequestStatus.OPEN)
            .group_by(*keys)
        )
        if scoped:
            stmt = stmt.where(MenteeProfile.referent_id == bindparam("referent_id"))
        return stmt

    return {tuple(row[:-1]): row[-1] for row in scope.run(f"demand_{kind}", build)}


def _free_places_by(kind: str, scope: _Scope) -> dict[tuple, tuple[int, int]]:
    """Validated, active tutors with a place left, per canton and EPCI or per commune: (tutors, places).

    The whole département's, for a référent too: tutors are proposed to any référent's mentees.
    """
    keys = _TERRITORY_KEYS[kind]

    def build(scoped: bool) -> Select:
        return (
            select(*keys, func.count(), func.sum(TutorProfile.capacity - TutorProfile.places_used))
            .select_from(TutorProfile)
            .join(User, User.id == TutorProfile.user_id)
            .join(Commune, Commune.code_insee == TutorProfile.commune_code)
            .where(
                User.active.is_(True),
                TutorProfile.validated_at.is_not(None),
                TutorProfile.places_used < TutorProfile.capacity,
            )
            .group_by(*keys)
        )

    return {
        tuple(row[:-2]): (int(row[-2]), int(row[-1] or 0))
        for row in scope.run(f"supply_{kind}", build)
    }


def _ranked(bucket: dict[str, list]) -> list[Territory]:
    out = [Territory(k, v[0], v[1], v[2], v[3]) for k, v in bucket.items()]
    return sorted(out, key=lambda t: (t.gap, t.name))


def _territories(scope: _Scope):
    """Cantons and EPCIs, aggregated in SQL per (canton, EPCI): a few dozen rows, not 458 communes."""
    demand = _open_requests_by("territory", scope)
    supply = _free_places_by("territory", scope)
    cantons: dict[str, list] = {}
    epcis: dict[str, list] = {}
    rows = scope.run(
        "territory_names",
        lambda _scoped: (
            select(Commune.canton_code, Commune.canton_nom, Commune.epci_siren, Commune.epci_nom)
            .distinct()
            .order_by(Commune.canton_code, Commune.epci_siren)
        ),
    )
    for canton_code, canton_nom, epci, epci_nom in rows:
        n = demand.get((canton_code, epci), 0)
        tutors, places = supply.get((canton_code, epci), (0, 0))
        for bucket, key, name in ((cantons, canton_code, canton_nom), (epcis, epci, epci_nom)):
            acc = bucket.setdefault(key, [name, 0, 0, 0])
            acc[1] += n
            acc[2] += tutors
            acc[3] += places
    unknown = demand.get((None, None), 0)
    unknown_row = Territory("", "Commune non renseignée", unknown, 0, 0) if unknown else None
    return _ranked(cantons), _ranked(epcis), unknown_row


def _communes(scope: _Scope) -> list[MapCommune]:
    """The 458 communes with their open demandes and free places (the map, the communes' table)."""
    demand = _open_requests_by("commune", scope)
    supply = _free_places_by("commune", scope)
    rows = scope.run(
        "communes",
        lambda _scoped: select(
            Commune.code_insee,
            Commune.nom,
            Commune.latitude,
            Commune.longitude,
            Commune.population,
            Commune.canton_nom,
            Commune.epci_nom,
        ).order_by(Commune.code_insee),
    )
    communes = []
    for code, nom, lat, lon, population, canton_nom, epci_nom in rows:
        tutors, places = supply.get((code,), (0, 0))
        communes.append(
            MapCommune(
                code,
                nom,
                lat,
                lon,
                population,
                canton_nom,
                epci_nom,
                demand.get((code,), 0),
                places,
                tutors,
            )
        )
    return communes


# The tables that read today's supply and demand by territory (the territories' queries, the
# costliest: every tutor with a free place, grouped by canton and EPCI).
TERRITORY_TABLES = frozenset({"synthese", "cantons", "epci", "communes"})


def build_report(
    period: Period,
    *,
    referent_id: int | None,
    communes: bool = False,
    territories: bool = True,
    today: date | None = None,
    summary: bool = True,
) -> Report:
    """Every figure of the indicators page, for the whole département or one référent's caseload.

    The period's figures come from the monthly summary when its months are the period (the
    default period, whole months), from the tables otherwise (`summary=False`: always).
    The 458 communes (the map and the communes' table) only if `communes`; today's supply and
    demand by canton and EPCI only if `territories` (the main page links to them: its figures
    are those of the period).
    """
    scope = _Scope(referent_id, *period.bounds)
    today = today or datetime.now(UTC).date()
    if summary and summary_covers(period, today):
        figures = _from_summary(scope, period)
    else:
        figures = _from_tables(scope)
    tutors_live, tutors_with_pair, tutors_repeat = figures.pop("tutors")
    cantons, epcis, unknown = _territories(scope) if territories or communes else ([], [], None)
    return Report(
        period=period,
        whole_department=referent_id is None,
        **figures,
        tutors_live=tutors_live,
        tutors_with_pair=tutors_with_pair,
        tutors_repeat=tutors_repeat,
        communes=_communes(scope) if communes else [],
        cantons=cantons,
        epcis=epcis,
        unknown_commune=unknown,
    )
