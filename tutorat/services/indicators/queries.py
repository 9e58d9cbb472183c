"""The indicators' queries: every figure aggregated in SQL, for the département or one caseload."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Integer, String, case, distinct, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from tutorat.extensions import db
from tutorat.models import (
    Commune,
    Meeting,
    MenteeProfile,
    Pair,
    StatusEvent,
    TutoringRequest,
    TutorProfile,
    User,
)
from tutorat.models.pairs import LIVE_PAIR_STATUSES
from tutorat.services.indicators.report import (
    ANSWER_GROUPS,
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


def _caseload(referent_id: int):
    return select(MenteeProfile.user_id).where(MenteeProfile.referent_id == referent_id)


def _scoped(stmt, mentee_col, referent_id: int | None):
    """Restrict `stmt` to a référent's caseload (None: the whole département)."""
    return stmt if referent_id is None else stmt.where(mentee_col.in_(_caseload(referent_id)))


def _in(column, period: Period):
    start, end = period.bounds
    return (column >= start) & (column < end)


def _by_month(period: Period, referent_id: int | None) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for i, (column, mentee_col) in enumerate(
        (
            (TutoringRequest.created_at, TutoringRequest.mentee_id),
            (Pair.proposed_at, Pair.mentee_id),
        )
    ):
        month = year_month(column)
        stmt = _scoped(
            select(month, func.count()).where(_in(column, period)).group_by(month),
            mentee_col,
            referent_id,
        )
        for key, n in db.session.execute(stmt):
            out.setdefault(key, [0, 0])[i] = n
    return {k: (v[0], v[1]) for k, v in out.items()}


def _answers_and_reasons(period: Period, referent_id: int | None):
    stmt = _scoped(
        select(Pair.status, Pair.decline_reason, func.count())
        .where(_in(Pair.proposed_at, period))
        .group_by(Pair.status, Pair.decline_reason),
        Pair.mentee_id,
        referent_id,
    )
    answers = dict.fromkeys(ANSWER_GROUPS, 0)
    group_of = {s: key for key, (_, statuses) in ANSWER_GROUPS.items() for s in statuses}
    reasons: dict[str | None, list[int]] = {}
    for status, reason, n in db.session.execute(stmt):
        if status in group_of:
            answers[group_of[status]] += n
        if status in ("declined", "expired"):
            if status == "expired" and reason is None:
                reason = "sans_reponse"
            reasons.setdefault(reason, [0, 0])[0 if status == "declined" else 1] += n
    return answers, {k: (v[0], v[1]) for k, v in reasons.items()}


def _first_event(to_status: str):
    """When the demande first reached `to_status` (its status events, through the indexed entity)."""
    return (
        select(func.min(StatusEvent.at))
        .where(
            StatusEvent.entity == "demande",
            StatusEvent.entity_id == TutoringRequest.id,
            StatusEvent.to_status == to_status,
        )
        .correlate(TutoringRequest)
        .scalar_subquery()
    )


def _delays(period: Period, referent_id: int | None) -> tuple[Delay, Delay]:
    per_request = _scoped(
        select(
            whole_days(TutoringRequest.created_at, _first_event("proposed")).label("to_proposal"),
            whole_days(TutoringRequest.created_at, _first_event("matched")).label("to_active"),
        ).where(_in(TutoringRequest.created_at, period)),
        TutoringRequest.mentee_id,
        referent_id,
    ).subquery()
    stmt = select(per_request.c.to_proposal, per_request.c.to_active, func.count()).group_by(
        per_request.c.to_proposal, per_request.c.to_active
    )
    created = 0
    to_proposal: Counter[int] = Counter()
    to_active: Counter[int] = Counter()
    for d1, d2, n in db.session.execute(stmt):
        created += n
        if d1 is not None:
            to_proposal[max(int(d1), 0)] += n
        if d2 is not None:
            to_active[max(int(d2), 0)] += n
    return (
        Delay("De la demande à la première proposition", created, dict(to_proposal)),
        Delay("De la demande au binôme actif", created, dict(to_active)),
    )


def _meetings(period: Period, referent_id: int | None) -> dict[int, int]:
    n_meetings = (
        select(func.count(Meeting.id))
        .where(
            Meeting.pair_id == Pair.id,
            or_(Meeting.mentee_confirmation.is_(None), Meeting.mentee_confirmation != "contested"),
        )
        .correlate(Pair)
        .scalar_subquery()
    )
    per_pair = _scoped(
        select(n_meetings.label("n")).where(_in(Pair.confirmed_at, period)),
        Pair.mentee_id,
        referent_id,
    ).subquery()
    stmt = select(per_pair.c.n, func.count()).group_by(per_pair.c.n)
    return {int(k): n for k, n in db.session.execute(stmt)}


def _outcomes(period: Period, referent_id: int | None) -> dict[str | None, int]:
    stmt = _scoped(
        select(Pair.outcome, func.count())
        .where(Pair.status == "ended", _in(Pair.ended_at, period))
        .group_by(Pair.outcome),
        Pair.mentee_id,
        referent_id,
    )
    return {key: n for key, n in db.session.execute(stmt)}


def _tutors(referent_id: int | None) -> tuple[int, int, int]:
    live = db.session.scalar(
        _scoped(
            select(func.count(distinct(Pair.tutor_id))).where(Pair.status.in_(LIVE_PAIR_STATUSES)),
            Pair.mentee_id,
            referent_id,
        )
    )
    per_tutor = _scoped(
        select(Pair.tutor_id, func.count().label("n"))
        .where(Pair.confirmed_at.is_not(None))
        .group_by(Pair.tutor_id),
        Pair.mentee_id,
        referent_id,
    ).subquery()
    with_pair, repeat = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((per_tutor.c.n > 1, 1), else_=0)), 0))
    ).one()
    return int(live or 0), int(with_pair or 0), int(repeat or 0)


def _open_requests_by(keys: tuple, referent_id: int | None) -> dict[tuple, int]:
    """Open demandes per value of `keys`, columns of the mentee's commune (None: unknown commune)."""
    stmt = (
        select(*keys, func.count())
        .select_from(TutoringRequest)
        .join(MenteeProfile, MenteeProfile.user_id == TutoringRequest.mentee_id)
        .outerjoin(Commune, Commune.code_insee == MenteeProfile.commune_code)
        .where(TutoringRequest.status == "open")
        .group_by(*keys)
    )
    if referent_id is not None:
        stmt = stmt.where(MenteeProfile.referent_id == referent_id)
    return {tuple(row[:-1]): row[-1] for row in db.session.execute(stmt)}


def _free_places_by(keys: tuple) -> dict[tuple, tuple[int, int]]:
    """Validated, active tutors with a place left, per value of `keys`: (tutors, free places).

    The whole département's, for a référent too: tutors are proposed to any référent's mentees.
    """
    stmt = (
        select(
            *keys,
            func.count(),
            func.sum(TutorProfile.capacity - TutorProfile.places_used),
        )
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
    return {tuple(row[:-2]): (int(row[-2]), int(row[-1] or 0)) for row in db.session.execute(stmt)}


def _ranked(bucket: dict[str, list]) -> list[Territory]:
    out = [Territory(k, v[0], v[1], v[2], v[3]) for k, v in bucket.items()]
    return sorted(out, key=lambda t: (t.gap, t.name))


def _territories(referent_id: int | None):
    """Cantons and EPCIs, aggregated in SQL per (canton, EPCI): a few dozen rows, not 458 communes."""
    keys = (Commune.canton_code, Commune.epci_siren)
    demand = _open_requests_by(keys, referent_id)
    supply = _free_places_by(keys)
    cantons: dict[str, list] = {}
    epcis: dict[str, list] = {}
    rows = db.session.execute(
        select(Commune.canton_code, Commune.canton_nom, Commune.epci_siren, Commune.epci_nom)
        .distinct()
        .order_by(Commune.canton_code, Commune.epci_siren)
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


def _communes(referent_id: int | None) -> list[MapCommune]:
    """The 458 communes with their open demandes and free places (the map, the communes' table)."""
    keys = (Commune.code_insee,)
    demand = _open_requests_by(keys, referent_id)
    supply = _free_places_by(keys)
    rows = db.session.execute(
        select(
            Commune.code_insee,
            Commune.nom,
            Commune.latitude,
            Commune.longitude,
            Commune.population,
            Commune.canton_nom,
            Commune.epci_nom,
        ).order_by(Commune.code_insee)
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


def build_report(period: Period, *, referent_id: int | None, communes: bool = False) -> Report:
    """Every figure of the indicators page, for the whole département or one référent's caseload.

    The 458 communes (the map and the communes' table) only if `communes`.
    """
    answers, reasons = _answers_and_reasons(period, referent_id)
    to_proposal, to_active = _delays(period, referent_id)
    tutors_live, tutors_with_pair, tutors_repeat = _tutors(referent_id)
    cantons, epcis, unknown = _territories(referent_id)
    return Report(
        period=period,
        whole_department=referent_id is None,
        by_month=_by_month(period, referent_id),
        answers=answers,
        reasons=reasons,
        to_proposal=to_proposal,
        to_active=to_active,
        meetings=_meetings(period, referent_id),
        outcomes=_outcomes(period, referent_id),
        tutors_live=tutors_live,
        tutors_with_pair=tutors_with_pair,
        tutors_repeat=tutors_repeat,
        communes=_communes(referent_id) if communes else [],
        cantons=cantons,
        epcis=epcis,
        unknown_commune=unknown,
    )
