"""Follow-up: reminders and expiry of unanswered proposals, the day-before reminder of a planned
meeting, alerts, the référents' weekly digest."""

from __future__ import annotations

import enum
import functools
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Date,
    Dialect,
    Integer,
    Row,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.types import NullType

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    CheckIn,
    CheckInAnswer,
    Commune,
    MenteeProfile,
    NextMeeting,
    Pair,
    PairReport,
    Role,
    Setting,
    TutoringRequest,
    TutorProfile,
    User,
)
from tutorat.models._types import UTCDateTime
from tutorat.models.pairs import (
    LIVE_PAIR_SQL,
    PENDING_PAIR_STATUSES,
    RECENT_FAILURE_STATUSES,
    RUNNING_PAIR_STATUSES,
    UNANSWERED_PAIR_STATUSES,
    PairStatus,
)
from tutorat.models.requests import TutoringRequestStatus
from tutorat.services import fairness, loop, suggestions
from tutorat.services import requests as request_service
from tutorat.services.db import changed_rows, declare_write_intent
from tutorat.services.errors import DomainError
from tutorat.services.letters import written_to_by_post_without_address
from tutorat.services.notifications import queue_email
from tutorat.services.profiles import local_today
from tutorat.services.workflow import REQUEST_AFTER_PAIR, transition_many


def _waiting_for(pair: Pair) -> list[tuple[Role, User]]:
    """Who has not answered yet: the tutor, the mentee, or both."""
    out = []
    if pair.tutor_answer is None:
        out.append((Role.TUTOR, pair.tutor))
    if pair.mentee_answer is None:
        out.append((Role.MENTEE, pair.mentee))
    return out


# Pairs handled per transaction: a run interrupted midway keeps what it committed, and each
# commit stays short (other writers wait for SQLite's lock, or for PostgreSQL's row locks).
CHUNK = 500


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield list(ids[i : i + size])


def _load_pairs(ids: Iterable[int]) -> list[Pair]:
    """The pairs with the people their emails need, in three queries whatever their number."""
    ids = sorted(ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Pair)
            .where(Pair.id.in_(ids))
            .order_by(Pair.id)
            .options(
                selectinload(Pair.tutor),
                selectinload(Pair.mentee)
                .selectinload(User.mentee_profile)
                .selectinload(MenteeProfile.referent),
            )
            .execution_options(populate_existing=True)
        )
    )


def _expire_many(ids: Sequence[int], now: datetime | None = None) -> int:
    """Proposals without all answers in time: expired, places freed, demandes back to the queue.

    Expire the still-unanswered pairs among `ids`, set-based; returns how many this call expired.

    `workflow.transition_many` changes only the rows still unanswered (another run, or an answer,
    may have come first) and returns them: only those get their place freed and their emails.
    """
    code, label = vocab.EXPIRY_REASON
    expiry_days = current_app.config["PROPOSAL_EXPIRY_DAYS"]
    moved = transition_many(
        Pair,
        ids,
        PairStatus.EXPIRED,
        actor=None,
        reason=f"{label} ({expiry_days} jours)",
        from_statuses=UNANSWERED_PAIR_STATUSES,
        now=now,
    )
    if not moved:
        return 0
    expired = list(moved)
    db.session.execute(
        update(Pair)
        .where(Pair.id.in_(expired))
        .values(decline_reason=code)
        .execution_options(synchronize_session=False)
    )
    pairs = _load_pairs(expired)
    freed = Counter(pair.tutor_id for pair in pairs)
    for n in sorted(set(freed.values())):
        tutors = [tutor_id for tutor_id, count in freed.items() if count == n]
        db.session.execute(
            update(TutorProfile)
            .where(TutorProfile.user_id.in_(tutors))
            .values(
                places_used=case(
                    (TutorProfile.places_used >= n, TutorProfile.places_used - n), else_=0
                )
            )
            .execution_options(synchronize_session=False)
        )
    transition_many(
        TutoringRequest,
        [pair.request_id for pair in pairs],
        REQUEST_AFTER_PAIR[PairStatus.EXPIRED],
        actor=None,
        from_statuses={TutoringRequestStatus.PROPOSED},
        reason={pair.request_id: f"Binôme n° {pair.id} expiré sans réponse" for pair in pairs},
        now=now,
    )
    # No flush while the emails are made: the next flush writes them (and their links) in batches.
    with db.session.no_autoflush:
        for pair in pairs:
            referent = pair.referent
            for side, person in (
                (Role.REFERENT, referent),
                (Role.TUTOR, pair.tutor),
                (Role.MENTEE, pair.mentee),
            ):
                queue_email("expired", person, pair=pair, side=side, expiry_days=expiry_days)
    db.session.flush()
    # Other objects of this session (a tutor's profile, a demande) must be read again.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, (TutorProfile, TutoringRequest)):
            db.session.expire(obj)
    return len(expired)


def _remind_many(ids: Sequence[int], number: int, now: datetime) -> int:
    """Send reminder `number` for the pairs of `ids` that have not had it; returns how many.

    The conditional UPDATE … WHERE reminders_sent < number RETURNING id is the claim: a second
    run, even at the same moment, gets no row back for a reminder already recorded.
    """
    expiry_days = current_app.config["PROPOSAL_EXPIRY_DAYS"]
    claimed = db.session.scalars(
        update(Pair)
        .where(
            Pair.id.in_(ids),
            Pair.status.in_(UNANSWERED_PAIR_STATUSES),
            Pair.reminders_sent < number,
        )
        .values(reminders_sent=number)
        .returning(Pair.id)
        .execution_options(synchronize_session=False)
    ).all()
    with db.session.no_autoflush:
        for pair in _load_pairs(claimed):
            days = (now - pair.proposed_at).days
            for side, person in _waiting_for(pair):
                queue_email(
                    "reminder", person, pair=pair, side=side, days=days, expiry_days=expiry_days
                )
    db.session.flush()
    return len(claimed)


def run_reminders(now: datetime | None = None) -> dict[str, int]:
    """One pass: remind at 3 and 7 days, expire at 10 days. Meant for cron.

    Set-based, a chunk of pairs per transaction. Safe to run twice, and two runs at once send
    each email once: every change is a conditional UPDATE that only one run can win.
    """
    now = now or datetime.now(UTC)
    # Every transaction of the run writes: on SQLite, take the write lock at BEGIN (a second run
    # waits for it instead of failing on a stale read).
    declare_write_intent(True)
    try:
        return _run_reminders(now)
    finally:
        declare_write_intent(False)


def _run_reminders(now: datetime) -> dict[str, int]:
    first, second = current_app.config["REMINDER_DAYS"]
    expiry_days = current_app.config["PROPOSAL_EXPIRY_DAYS"]
    expiry_limit = now - timedelta(days=expiry_days)
    report = {"rappels": 0, "expirées": 0, "listes d'attente": 0, "invitations à devenir tuteur": 0}
    # `now` decides what is due; the events are dated `now` too, but never later than the real
    # clock (a test asks what would be due in 10 days; the demo replays the past at its dates).
    at = min(now, datetime.now(UTC))
    unanswered = select(Pair.id).where(Pair.status.in_(UNANSWERED_PAIR_STATUSES)).order_by(Pair.id)
    base_url = current_app.config["BASE_URL"].rstrip("/")
    # One request context for every email of the run (their links come from BASE_URL).
    with current_app.test_request_context(base_url=base_url):
        to_expire = db.session.scalars(unanswered.where(Pair.proposed_at <= expiry_limit)).all()
        for chunk in _chunks(to_expire):
            report["expirées"] += _expire_many(chunk, at)
            db.session.commit()
        for number, days in ((2, second), (1, first)):
            due = db.session.scalars(
                unanswered.where(
                    Pair.proposed_at <= now - timedelta(days=days),
                    Pair.proposed_at > expiry_limit,
                    Pair.reminders_sent < number,
                )
            ).all()
            for chunk in _chunks(due):
                report["rappels"] += _remind_many(chunk, number, now)
                db.session.commit()
        # After expiries, whose freed places may be what a waiting demande needed.
        report["listes d'attente"] = recheck_waiting(at)
        # The loop: former mentees who said yes are invited to apply, months after their end.
        report["invitations à devenir tuteur"] = loop.send_invitations(now)
    return report


def recheck_waiting(now: datetime | None = None) -> int:
    """Bring back to the queue every waiting demande for which a tutor now fits, and tell its
    référent (email `waiting_candidate`). Returns how many came back; commits each one."""
    now = now or datetime.now(UTC)
    ids = db.session.scalars(
        select(TutoringRequest.id)
        .where(TutoringRequest.status == TutoringRequestStatus.WAITING)
        .order_by(TutoringRequest.id)
    ).all()
    back = 0
    for request_id in ids:
        tutoring_request = db.session.get(TutoringRequest, request_id)
        if tutoring_request is None or tutoring_request.status != TutoringRequestStatus.WAITING:
            continue
        try:
            _, feasible = suggestions.candidates_for(tutoring_request, k=1)
        except DomainError:  # incomplete profile: nothing can fit until the référent completes it
            continue
        if not feasible:
            continue
        try:
            request_service.leave_waiting_list(
                tutoring_request,
                actor=None,
                reason=f"{feasible} tuteur{'s' if feasible > 1 else ''} possible"
                f"{'s' if feasible > 1 else ''} : retour dans la file du référent",
                now=now,
            )
        except DomainError:  # changed meanwhile by the référent
            db.session.rollback()
            continue
        referent = tutoring_request.mentee.require_mentee_profile().referent
        queue_email(
            "waiting_candidate",
            referent,
            demande=tutoring_request,
            mentee=tutoring_request.mentee,
            candidates=feasible,
        )
        db.session.commit()
        back += 1
    return back


# ---- The référent's caseload: alerts and counts ----
#
# Each alert rule is written once, here, as SQL: the dashboard's lists, totals and row marks and
# the weekly digest all use these expressions (tests/tutorat/test_followup.py checks that the
# dashboard and the digest agree). Their thresholds are bound parameters, given by
# `alert_params(now)`, so that each statement is built once per process and only executed per
# request (building one costs about as much as running it: bench/README.md, "Pages web").


def _read(stmt: Select, params: dict):
    """Run a statement of plain columns on the session's connection: Core rows, no ORM loading
    (a third less work per query than `db.session.execute`, same transaction)."""
    return db.session.connection().execute(stmt, params)


def _status_in(column, statuses) -> ColumnElement[bool]:
    """`column IN ('a', 'b')` with the statuses written in the statement, as LIVE_PAIR_SQL is: a
    list given as a parameter is "expanding", and SQLAlchemy rewrites the statement's text at every
    execution to spell it out (a tenth of a millisecond per dashboard query). The values are the
    enums' own, never input."""
    return column.in_([literal_column(f"'{status.value}'") for status in sorted(statuses)])


def alert_params(now: datetime) -> dict[str, datetime | date]:
    """The thresholds of the alert rules at `now`, from the configured delays."""
    config = current_app.config
    silent_before = now - timedelta(days=config["ALERT_NO_MEETING_DAYS"])
    return {
        "old_before": now - timedelta(days=config["ALERT_OPEN_REQUEST_DAYS"]),
        "silent_before": silent_before,
        "silent_day": silent_before.date(),
        "week_ago": now - timedelta(days=7),
        "reminded_before": now - timedelta(days=config["REMINDER_DAYS"][0]),
        "recent_after": now - timedelta(days=config["RECENT_CHANGES_DAYS"]),
    }


def last_meeting_date() -> ColumnElement[date | None]:
    """The date of a binôme's last meeting (NULL if none): the `pair` column kept by triggers on
    meeting (migration 0027)."""
    return Pair.last_meeting_date.expression


def old_request() -> ColumnElement[bool]:
    """Alert: a demande still waiting for a proposal after ALERT_OPEN_REQUEST_DAYS."""
    return and_(
        TutoringRequest.status == TutoringRequestStatus.OPEN,
        TutoringRequest.updated_at <= bindparam("old_before"),
    )


def silent_pair(last_meeting: ColumnElement[date | None]) -> ColumnElement[bool]:
    """Alert: an active binôme without a meeting (or, if none, a confirmation) for ALERT_NO_MEETING_DAYS."""
    return and_(
        Pair.status == PairStatus.ACTIVE,
        or_(
            and_(last_meeting.is_(None), Pair.confirmed_at <= bindparam("silent_before")),
            last_meeting <= bindparam("silent_day"),
        ),
    )


def _no_later_answer(check_in) -> ColumnElement[bool]:
    """No answer from the same person to a later question of the same binôme."""
    later = aliased(CheckIn, name="later")
    return ~exists(
        select(later.id).where(
            later.pair_id == check_in.pair_id,
            later.person_id == check_in.person_id,
            later.answer.is_not(None),
            later.round_number > check_in.round_number,
        )
    )


def open_report() -> ColumnElement[bool]:
    """The mentee or the tutor told the référent something about the binôme (a stop request, a
    problem: services/voices.py) that the référent has not handled yet."""
    return exists(
        select(PairReport.id)
        .where(PairReport.pair_id == Pair.id, PairReport.handled_at.is_(None))
        .correlate(Pair)
    )


def reported_ended_pair() -> ColumnElement[bool]:
    """To do first as well: a report about a binôme that has already ended (told after its end,
    or sent from a page opened before it): it reaches the référent all the same."""
    return and_(Pair.status == PairStatus.ENDED, open_report())


def reported_pair() -> ColumnElement[bool]:
    """To do first: in a running binôme, the mentee or the tutor asked to stop it or reported a
    problem to the référent, not handled yet (services/voices.py); or their latest answer to
    « Comment se passe le tutorat ? » is « Pas bien »; or one of them left two questions in a row
    unanswered for a week (services/checkins.py). Safeguarding comes first."""
    bad = aliased(CheckIn, name="bad")
    missed = aliased(CheckIn, name="missed")
    return and_(
        _status_in(Pair.status, RUNNING_PAIR_STATUSES),
        or_(
            Pair.status == PairStatus.STOP_REQUESTED,
            open_report(),
            exists(
                select(bad.id)
                .where(
                    bad.pair_id == Pair.id,
                    bad.answer == CheckInAnswer.BAD,
                    _no_later_answer(bad),
                )
                .correlate(Pair)
            ),
            exists(
                select(missed.person_id)
                .where(
                    missed.pair_id == Pair.id,
                    missed.answer.is_(None),
                    missed.asked_at <= bindparam("week_ago"),
                    _no_later_answer(missed),
                )
                .group_by(missed.person_id)
                .having(func.count() >= 2)
                .correlate(Pair)
            ),
        ),
    )


def to_confirm() -> ColumnElement[bool]:
    """To do: both people accepted, the référent has to confirm the binôme."""
    return Pair.status == PairStatus.ACCEPTED


def reminded_proposal() -> ColumnElement[bool]:
    """To do: a proposal still unanswered past its first reminder (REMINDER_DAYS[0]), before it expires."""
    return and_(
        _status_in(Pair.status, UNANSWERED_PAIR_STATUSES),
        Pair.proposed_at <= bindparam("reminded_before"),
    )


def recent_failure() -> ColumnElement[bool]:
    """A proposal declined or expired in the last RECENT_CHANGES_DAYS (the dashboard's recent changes)."""
    return and_(
        _status_in(Pair.status, RECENT_FAILURE_STATUSES),
        Pair.updated_at >= bindparam("recent_after"),
    )


@dataclass(frozen=True)
class Territory:
    """A canton or an EPCI, to narrow a caseload to the mentees who live there."""

    kind: str  # "canton" or "epci"
    code: str

    @classmethod
    def parse(cls, value: str) -> Territory | None:
        kind, _, code = value.partition(":")
        return cls(kind, code) if kind in ("canton", "epci") and code else None


@dataclass(frozen=True)
class Scope:
    """What narrows a caseload: a territory and a name searched (both optional).

    The statements depend only on which of them are given (`key`); their values are bound.
    """

    territory: Territory | None = None
    name: str = ""

    @property
    def key(self) -> tuple[str | None, bool]:
        return (self.territory.kind if self.territory else None, bool(self.name))

    def params(self) -> dict:
        out: dict = {}
        if self.territory is not None:
            out["territory"] = self.territory.code
        if self.name:
            escaped = (
                self.name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            out["name"] = f"%{escaped}%"
        return out


def _named() -> Select:
    """The accounts whose "first last" name contains :name (case-insensitive)."""
    full = func.lower(User.first_name + " " + User.last_name)
    return select(User.id).where(full.like(bindparam("name"), escape="\\"))


def _territory_communes(territory_kind: str) -> Select:
    """The communes of the :territory (a canton or an EPCI, as `territory_kind` says)."""
    column = Commune.canton_code if territory_kind == "canton" else Commune.epci_siren
    return select(Commune.code_insee).where(column == bindparam("territory"))


def _in_caseload(stmt: Select, mentee_id, key: tuple[str | None, bool], tutor_id=None) -> Select:
    """`stmt` restricted to the mentees of :referent_id (and of the :territory, if a kind is given;
    and to the people named like :name, the mentee or the tutor, if a name is searched)."""
    territory_kind, searched = key
    stmt = stmt.join(MenteeProfile, MenteeProfile.user_id == mentee_id).where(
        MenteeProfile.referent_id == bindparam("referent_id")
    )
    if searched:
        named = _named()
        stmt = stmt.where(
            or_(mentee_id.in_(named), tutor_id.in_(named))
            if tutor_id is not None
            else mentee_id.in_(named)
        )
    if territory_kind is None:
        return stmt
    return stmt.where(MenteeProfile.commune_code.in_(_territory_communes(territory_kind)))


def _among_caseload(
    stmt: Select, mentee_id, key: tuple[str | None, bool], postgresql: bool
) -> Select:
    """`stmt` restricted as `_in_caseload` does (without a tutor), the mentees looked up one by one
    by `mentee_id`'s index: PostgreSQL, given a join, reads every row of `stmt` and hashes them
    (all the département's open demandes for a référent's 50), so it gets the ids as an array."""
    territory_kind, searched = key
    mentees = select(MenteeProfile.user_id).where(
        MenteeProfile.referent_id == bindparam("referent_id")
    )
    if territory_kind is not None:
        mentees = mentees.where(MenteeProfile.commune_code.in_(_territory_communes(territory_kind)))
    if searched:
        stmt = stmt.where(mentee_id.in_(_named()))
    if postgresql:
        return stmt.where(mentee_id == any_(func.array(mentees.scalar_subquery())))
    return stmt.where(mentee_id.in_(mentees))


def _params(referent_id: int, now: datetime, scope: Scope, **extra) -> dict:
    return {"referent_id": referent_id, **alert_params(now), **scope.params(), **extra}


@functools.cache
def _territories_stmt() -> Select:
    # The communes where they live, each once (some 70 for 160 mentees), then each commune's
    # territories: a join would look up (or, on PostgreSQL, hash) a commune per mentee.
    communes = select(MenteeProfile.commune_code).where(
        MenteeProfile.referent_id == bindparam("referent_id")
    )
    return (
        select(Commune.canton_code, Commune.canton_nom, Commune.epci_siren, Commune.epci_nom)
        .where(Commune.code_insee.in_(communes))
        .distinct()
    )


def _territory_choices(rows: Iterable[Sequence]) -> list[tuple[str, str]]:
    """("canton:32xx", label) for each canton, then each EPCI, of rows (canton code and name, EPCI
    SIREN and name)."""
    cantons: dict[str, str] = {}
    epcis: dict[str, str] = {}
    for canton_code, canton_name, siren, epci_name in rows:
        cantons[canton_code] = canton_name
        epcis[siren] = epci_name
    by_name = operator.itemgetter(1)
    return [
        (f"canton:{code}", f"Canton : {name}")
        for code, name in sorted(cantons.items(), key=by_name)
    ] + [
        (f"epci:{code}", f"Intercommunalité : {name}")
        for code, name in sorted(epcis.items(), key=by_name)
    ]


def caseload_territories(referent_id: int) -> list[tuple[str, str]]:
    """The cantons, then the EPCIs, where a référent's mentees live: ("canton:32xx", label)."""
    return _territory_choices(_read(_territories_stmt(), {"referent_id": referent_id}).all())


@dataclass(frozen=True)
class CaseloadPeople:
    """What the dashboard says of a référent's mentees besides their binômes and demandes: the
    territories to narrow the caseload to (`caseload_territories`), and the « Adresse manquante »
    notice (`letters.missing_addresses`: how many, and the first three names)."""

    territories: list[tuple[str, str]]
    missing_total: int
    missing_names: list[str]


def _missing_brief() -> Select:
    """The first three of letters.missing_addresses of :referent_id (same rule and order), with
    their total."""
    return (
        select(User.first_name, User.last_name, func.count().over().label("missing_total"))
        .join(MenteeProfile, MenteeProfile.user_id == User.id)
        .where(
            MenteeProfile.referent_id == bindparam("referent_id"),
            *written_to_by_post_without_address(MenteeProfile.commune_code),
        )
        .order_by(User.last_name, User.first_name, User.id)
        .limit(3)
    )


# Where the dashboard's statement puts the people rows (`_people_branches`) among the caseload's
# columns, and the marks that tell them apart (a caseload row's marks are never negative).
_TERRITORY_COLUMNS = ("status", "tutor_answer", "mentee_answer", "decline_reason")
_TERRITORY_ROW, _MISSING_ROW = -1, -2


def _people_branches(columns: Sequence[str]) -> list[Select]:
    """The territories of :referent_id's mentees (`_territories_stmt`) and `_missing_brief`, laid
    out in the caseload's `columns`: a territory's canton code and name, EPCI SIREN and name in
    _TERRITORY_COLUMNS, a missing address's names as the mentee's and the total as reminders_sent."""
    territory = _territories_stmt().subquery()
    missing = _missing_brief().subquery()
    values: dict[str, dict[str, Any]] = {
        "territory": {
            **dict(zip(_TERRITORY_COLUMNS, territory.c, strict=True)),
            "marks": literal_column(str(_TERRITORY_ROW), Integer),
        },
        "missing": {
            "mentee_first_name": missing.c.first_name,
            "mentee_last_name": missing.c.last_name,
            "reminders_sent": missing.c.missing_total,
            "marks": literal_column(str(_MISSING_ROW), Integer),
        },
    }
    return [
        select(*(given.get(name, null()).label(name) for name in columns)).select_from(source)
        for given, source in ((values["territory"], territory), (values["missing"], missing))
    ]


_territory_of = operator.attrgetter(*_TERRITORY_COLUMNS)


def _people(rows: Iterable[Row]) -> CaseloadPeople:
    territories, missing = [], []
    for row in rows:
        if row.marks == _TERRITORY_ROW:
            territories.append(_territory_of(row))
        else:
            missing.append(row)
    return CaseloadPeople(
        _territory_choices(territories),
        missing[0].reminders_sent if missing else 0,
        [f"{r.mentee_first_name} {r.mentee_last_name}".strip() for r in missing],
    )


# ---- The caseload in one statement: "À faire", the other lists and every count ----
#
# A référent's caseload (about 160 mentees at Gers scale) has some 40 live binômes and 50 open
# demandes: one statement reads them, with the few binômes recently failed or ended with an open
# report, each row with the names it shows and the marks of the rules above (each rule written
# once, here, in SQL; the marks of a row are the bits of one integer). Python only counts the rows,
# sorts each list and pages it: the rules' subqueries (last meeting, reports, check-ins) run once
# per binôme, not once per list (bench/README.md, "Tableau de bord, troisième passe").


class Mark(enum.IntFlag):
    """What the rules say of a row of the caseload (the bits of its `marks` column)."""

    PENDING = enum.auto()  # a proposal not confirmed yet (PENDING_PAIR_STATUSES)
    TO_CONFIRM = enum.auto()  # to_confirm
    REMINDED = enum.auto()  # reminded_proposal
    RUNNING = enum.auto()  # active, paused, or with a stop requested
    SILENT = enum.auto()  # silent_pair
    REPORTED = enum.auto()  # reported_pair
    REPORTED_ENDED = enum.auto()  # reported_ended_pair
    RECENT_FAILURE = enum.auto()  # recent_failure
    OPEN_REQUEST = enum.auto()  # a demande waiting for a proposal
    OLD_REQUEST = enum.auto()  # old_request
    WAITING_REQUEST = enum.auto()  # on the waiting list


class ToDo(enum.StrEnum):
    """A kind of item of the "À faire" list; their order is the urgency order."""

    # A stop request, a problem reported, a « Pas bien » or unanswered check-ins (reported_pair).
    PROBLEM = "problem"
    CONFIRM = "confirm"  # both accepted: people are waiting for the référent alone
    REMINDED = "reminded"  # unanswered past a reminder: the closest to expiry first
    OLD_REQUEST = "old_request"  # a demande without proposal for too long: the oldest first
    SILENT = "silent"  # an active binôme without meetings: the longest silent first

    @property
    def priority(self) -> int:
        return _PRIORITY[self]


_PRIORITY = {kind: rank for rank, kind in enumerate(ToDo)}


class CaseloadList(enum.StrEnum):
    """A list of the dashboard below "À faire": what is not to do today, each item shown once."""

    OPEN_REQUESTS = "other_requests"  # open demandes not late yet, the oldest first
    WAITING_REQUESTS = "waiting_requests"  # the waiting list, the oldest first
    PENDING_PAIRS = "other_pending"  # proposals not reminded yet, the oldest first
    ACTIVE_PAIRS = "other_active"  # running binômes neither silent nor reported
    RECENT_FAILURES = "recent_failures"  # declined or expired lately, the latest first


def _marks(rules: dict[Mark, ColumnElement[bool]]) -> ColumnElement[int]:
    """The row's marks as one integer: the sum of the bits of the rules it meets."""
    zero = literal_column("0", Integer)
    bits = [
        case((rule, literal_column(str(int(mark)), Integer)), else_=zero)
        for mark, rule in rules.items()
    ]
    return functools.reduce(operator.add, bits).label("marks")


@functools.cache
def _caseload_stmt(key: tuple[str | None, bool], postgresql: bool, people: bool) -> Select:
    """The caseload's binômes and demandes (narrowed by `key`); with `people`, the dashboard's
    `_people_branches` too (never narrowed: the territories to choose from, every missing address)."""
    last = last_meeting_date()
    mentee, tutor = aliased(User, name="mentee"), aliased(User, name="tutor")
    pairs = _in_caseload(
        select(
            Pair.id.label("pair_id"),
            Pair.request_id,
            # Statuses and answers as their text: a StrEnum member equals its value, and the
            # rows need no conversion (a tenth of the page's work at Gers scale).
            type_coerce(Pair.status, String).label("status"),
            type_coerce(Pair.tutor_answer, String).label("tutor_answer"),
            type_coerce(Pair.mentee_answer, String).label("mentee_answer"),
            Pair.reminders_sent,
            Pair.decline_reason,
            cast(null(), String).label("topics"),
            # Dates as the database gives them (Caseload.page converts those of the rows shown).
            null().label("created_at"),
            _raw(Pair.proposed_at),
            _raw(Pair.confirmed_at),
            _raw(Pair.updated_at),
            _raw(last).label("last_meeting"),
            mentee.first_name.label("mentee_first_name"),
            mentee.last_name.label("mentee_last_name"),
            tutor.first_name.label("tutor_first_name"),
            tutor.last_name.label("tutor_last_name"),
            _marks(
                {
                    Mark.PENDING: _status_in(Pair.status, PENDING_PAIR_STATUSES),
                    Mark.TO_CONFIRM: to_confirm(),
                    Mark.REMINDED: reminded_proposal(),
                    Mark.RUNNING: _status_in(Pair.status, RUNNING_PAIR_STATUSES),
                    Mark.SILENT: silent_pair(last),
                    Mark.REPORTED: reported_pair(),
                    Mark.REPORTED_ENDED: reported_ended_pair(),
                    Mark.RECENT_FAILURE: recent_failure(),
                }
            ),
        )
        .join(mentee, mentee.id == Pair.mentee_id)
        .join(tutor, tutor.id == Pair.tutor_id)
        .where(or_(text(f"pair.{LIVE_PAIR_SQL}"), recent_failure(), reported_ended_pair())),
        Pair.mentee_id,
        key,
        Pair.tutor_id,
    )
    requests_ = _among_caseload(
        select(
            null().label("pair_id"),
            TutoringRequest.id.label("request_id"),
            null().label("status"),
            null().label("tutor_answer"),
            null().label("mentee_answer"),
            null().label("reminders_sent"),
            null().label("decline_reason"),
            TutoringRequest.topics,
            _raw(TutoringRequest.created_at),
            null().label("proposed_at"),
            null().label("confirmed_at"),
            _raw(TutoringRequest.updated_at),
            null().label("last_meeting"),
            User.first_name.label("mentee_first_name"),
            User.last_name.label("mentee_last_name"),
            null().label("tutor_first_name"),
            null().label("tutor_last_name"),
            _marks(
                {
                    Mark.OPEN_REQUEST: TutoringRequest.status == TutoringRequestStatus.OPEN,
                    Mark.OLD_REQUEST: old_request(),
                    Mark.WAITING_REQUEST: TutoringRequest.status == TutoringRequestStatus.WAITING,
                }
            ),
        )
        .join(User, User.id == TutoringRequest.mentee_id)
        .where(
            _status_in(
                TutoringRequest.status, {TutoringRequestStatus.OPEN, TutoringRequestStatus.WAITING}
            )
        ),
        TutoringRequest.mentee_id,
        key,
        postgresql,
    )
    # PostgreSQL types a union's columns from its first select: the binômes come first.
    branches = [pairs, requests_]
    if people:
        branches += _people_branches([column.name for column in pairs.selected_columns])
    return union_all(*branches)  # type: ignore[return-value]


Place = ToDo | CaseloadList


@functools.cache
def _place(marks: int) -> Place | None:
    """Where a row goes, the most urgent first: an item to do, another list, or nowhere (each
    item is shown once: a reported binôme is to do as such, not also as silent)."""
    mark = Mark(marks)
    for place, bits in (
        (ToDo.PROBLEM, Mark.REPORTED | Mark.REPORTED_ENDED),
        (ToDo.CONFIRM, Mark.TO_CONFIRM),
        (ToDo.REMINDED, Mark.REMINDED),
        (ToDo.OLD_REQUEST, Mark.OLD_REQUEST),
        (ToDo.SILENT, Mark.SILENT),
        (CaseloadList.OPEN_REQUESTS, Mark.OPEN_REQUEST),
        (CaseloadList.WAITING_REQUESTS, Mark.WAITING_REQUEST),
        (CaseloadList.PENDING_PAIRS, Mark.PENDING),
        (CaseloadList.ACTIVE_PAIRS, Mark.RUNNING),
        (CaseloadList.RECENT_FAILURES, Mark.RECENT_FAILURE),
    ):
        if mark & bits:
            return place
    return None


@dataclass(frozen=True)
class CaseloadCounts:
    open_requests: int
    old_open_requests: int  # to do
    pending_pairs: int  # proposed, not confirmed yet
    to_confirm: int  # to do: accepted by both, for the référent to confirm
    reminded_pairs: int  # to do: unanswered past the first reminder
    active_pairs: int  # running: active, paused, or with a stop requested
    silent_pairs: int  # to do (unless reported: each item once)
    reported_pairs: int  # to do first: a stop request, a problem, a « Pas bien »…
    recent_failures: int  # declined or expired lately
    waiting_requests: int  # on the waiting list: out of "À faire", re-checked by run-reminders
    reported_ended: int  # to do first: an ended binôme with a report not handled yet

    @property
    def alerts(self) -> int:
        return (
            self.old_open_requests + self.silent_pairs + self.reported_pairs + self.reported_ended
        )

    @property
    def to_do(self) -> int:
        """The items of the "À faire" list (`Caseload.to_do`)."""
        return (
            self.reported_pairs
            + self.reported_ended
            + self.to_confirm
            + self.reminded_pairs
            + self.old_open_requests
            + self.silent_pairs
        )

    # The other lists of the dashboard show what is not to do today, so that each item is shown once.
    @property
    def other_requests(self) -> int:
        return self.open_requests - self.old_open_requests

    @property
    def other_pending(self) -> int:
        return self.pending_pairs - self.to_confirm - self.reminded_pairs

    @property
    def other_active(self) -> int:
        return self.active_pairs - self.silent_pairs - self.reported_pairs


# The count each mark adds to; a silent binôme counts as silent only if it is to do as such.
_COUNTED = {
    Mark.PENDING: "pending_pairs",
    Mark.TO_CONFIRM: "to_confirm",
    Mark.REMINDED: "reminded_pairs",
    Mark.RUNNING: "active_pairs",
    Mark.REPORTED: "reported_pairs",
    Mark.REPORTED_ENDED: "reported_ended",
    Mark.RECENT_FAILURE: "recent_failures",
    Mark.OPEN_REQUEST: "open_requests",
    Mark.OLD_REQUEST: "old_open_requests",
    Mark.WAITING_REQUEST: "waiting_requests",
}


@functools.cache
def _counted(marks: int) -> tuple[str, ...]:
    """The counts a row with these marks adds one to."""
    names = [name for mark, name in _COUNTED.items() if marks & mark]
    return (*names, "silent_pairs") if _place(marks) == ToDo.SILENT else tuple(names)


_COUNT_NAMES = tuple(f.name for f in fields(CaseloadCounts))


def _counts(marks: dict[int, int]) -> CaseloadCounts:
    counts = dict.fromkeys(_COUNT_NAMES, 0)
    for value, n in marks.items():
        for name in _counted(value):
            counts[name] += n
    return CaseloadCounts(**counts)


def _raw(column):
    """A date column as the database driver gives it, without SQLAlchemy's conversion: a text in
    SQLite (one format, so that text order is date order, as the rules' comparisons already assume),
    a datetime in PostgreSQL. Only the rows shown are converted (Caseload.page)."""
    return type_coerce(column, NullType()).label(column.key if hasattr(column, "key") else None)


# The dates of a row, and their types (what the rows shown are converted to).
_DATES = {
    "created_at": UTCDateTime(),
    "proposed_at": UTCDateTime(),
    "confirmed_at": UTCDateTime(),
    "updated_at": UTCDateTime(),
    "last_meeting": Date(),
}


@functools.cache
def _converters(dialect: Dialect) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    converters = (
        (name, kind.dialect_impl(dialect).result_processor(dialect, None))
        for name, kind in _DATES.items()
    )
    return tuple((name, convert) for name, convert in converters if convert is not None)


def _order(value) -> tuple:
    """A raw date as a sort key, none first (the same type in every row of a list)."""
    return (value is not None, value)


# Since when an item is to do: both accepted (the last change of an accepted pair), proposed,
# confirmed; a demande's last change.
_SINCE = {
    ToDo.PROBLEM: "updated_at",
    ToDo.CONFIRM: "updated_at",
    ToDo.REMINDED: "proposed_at",
    ToDo.OLD_REQUEST: "updated_at",
    ToDo.SILENT: "confirmed_at",
}


def _to_do_key(kind: ToDo) -> Callable[[Row], tuple]:
    """The order of the items of one kind: the longest waiting first (a silent binôme: its last
    meeting, or none at all, first), then by id (a stable order from page to page)."""
    since = _SINCE[kind]
    if kind is ToDo.SILENT:
        return lambda r: (
            r.last_meeting is not None,
            r.last_meeting,
            _order(getattr(r, since)),
            r.pair_id or 0,
            r.request_id or 0,
        )
    return lambda r: (_order(getattr(r, since)), r.pair_id or 0, r.request_id or 0)


# "À faire" is sorted kind by kind, in their urgency order (ToDo's order).
_TO_DO_KEYS = {kind: _to_do_key(kind) for kind in ToDo}


# Each list's order: its date, then its id (a stable order from page to page).
_LIST_ORDER = {
    CaseloadList.OPEN_REQUESTS: (lambda r: (r.updated_at, r.request_id), False),
    CaseloadList.WAITING_REQUESTS: (lambda r: (r.updated_at, r.request_id), False),
    CaseloadList.PENDING_PAIRS: (lambda r: (r.proposed_at, r.pair_id), False),
    CaseloadList.ACTIVE_PAIRS: (lambda r: (_order(r.confirmed_at), r.pair_id), False),
    CaseloadList.RECENT_FAILURES: (lambda r: (r.updated_at, r.pair_id), True),  # the latest first
}


@dataclass(frozen=True)
class Caseload:
    """A référent's caseload as the dashboard shows it: every count, "À faire" the most urgent
    first, and each other list in its order (rows of names, ids, dates: not ORM objects)."""

    counts: CaseloadCounts
    to_do: list[tuple[ToDo, Row]]
    lists: dict[CaseloadList, list[Row]]
    converters: tuple[tuple[str, Callable[[Any], Any]], ...]
    columns: tuple[str, ...]  # the rows' column names (the statement's)
    people: CaseloadPeople | None = None  # with_people: territories, « Adresse manquante »

    def page(self, which: CaseloadList | None, start: int, stop: int) -> list[SimpleNamespace]:
        """Rows `start` to `stop` of a list ("À faire" if `which` is None), their dates converted.
        An item to do also has its `kind`, since when it is to do (`since`) and, if silent, its
        `last_meeting` (none for the other kinds)."""
        if which is not None:
            return [self._line(row) for row in self.lists[which][start:stop]]
        out = []
        for kind, row in self.to_do[start:stop]:
            line = self._line(row)
            line.kind, line.since = kind, getattr(line, _SINCE[kind])
            if kind != ToDo.SILENT:
                line.last_meeting = None
            out.append(line)
        return out

    def _line(self, row: Row) -> SimpleNamespace:
        values = dict(zip(self.columns, row, strict=True))  # Row._asdict reads its keys each time
        for name, convert in self.converters:
            value = values[name]
            if value is not None:  # most rows have but two or three of the five dates
                values[name] = convert(value)
        return SimpleNamespace(**values)


def caseload(
    referent_id: int, now: datetime, scope: Scope | None = None, *, with_people: bool = False
) -> Caseload:
    """A référent's caseload (narrowed by `scope`) in one query: its binômes and demandes with
    their marks; counted, sorted and split into lists here. `with_people`: the same query also
    reads the dashboard's territories and « Adresse manquante » notice (`people`), whatever the
    scope."""
    scope = scope or Scope()
    connection = db.session.connection()
    stmt = _caseload_stmt(scope.key, connection.dialect.name == "postgresql", with_people)
    result = connection.execute(stmt, _params(referent_id, now, scope))
    columns = tuple(result.keys())
    rows = result.all()
    placed: dict[Place, list[Row]] = {place: [] for place in (*ToDo, *CaseloadList)}
    seen: dict[int, int] = {}  # how many rows have each value of marks
    people: list[Row] = []
    for row in rows:
        marks = row.marks
        if marks < 0:
            people.append(row)
            continue
        seen[marks] = seen.get(marks, 0) + 1
        place = _place(marks)
        if place is not None:
            placed[place].append(row)
    to_do: list[tuple[ToDo, Row]] = []
    for kind in ToDo:
        group = placed[kind]
        group.sort(key=_TO_DO_KEYS[kind])
        to_do += [(kind, row) for row in group]
    lists: dict[CaseloadList, list[Row]] = {}
    for which, (key, descending) in _LIST_ORDER.items():
        lists[which] = sorted(placed[which], key=key, reverse=descending)
    return Caseload(
        _counts(seen),
        to_do,
        lists,
        _converters(connection.dialect),
        columns,
        _people(people) if with_people else None,
    )


def caseload_counts(referent_id: int, now: datetime, scope: Scope | None = None) -> CaseloadCounts:
    """Every count of a référent's caseload, alerts included (the weekly digest's figures)."""
    return caseload(referent_id, now, scope).counts


@functools.cache
def _new_requests_stmt() -> Select:
    return _in_caseload(
        select(func.count())
        .select_from(TutoringRequest)
        .where(TutoringRequest.created_at >= bindparam("week_ago")),
        TutoringRequest.mentee_id,
        Scope().key,
    )


def new_requests(referent_id: int, now: datetime) -> int:
    """The demandes of a référent's caseload created in the last 7 days (the weekly digest)."""
    return _read(_new_requests_stmt(), _params(referent_id, now, Scope())).scalar_one()


#: Fairness gaps in a weekly digest, at most (the largest first; the audit page has them all).
DIGEST_FAIRNESS_GAPS = 2


def weekly_digest(referent: User, now: datetime) -> dict[str, Any]:
    """The figures of a référent's weekly email: the dashboard's counts (caseload_counts), and the
    largest fairness gaps of their caseload in plain French (those chance alone does not explain,
    from the audit of /indicateurs/equite; none when there is none)."""
    counts = caseload_counts(referent.id, now)
    gaps = fairness.report(referent_id=referent.id, now=now).gaps[:DIGEST_FAIRNESS_GAPS]
    return {
        **asdict(counts),
        "new_requests": new_requests(referent.id, now),
        "open_days": current_app.config["ALERT_OPEN_REQUEST_DAYS"],
        "no_meeting_days": current_app.config["ALERT_NO_MEETING_DAYS"],
        "fairness_gaps": gaps,
    }


def send_digests(now: datetime | None = None) -> int:
    """The weekly digest to each référent, at most once per ISO week (safe to run twice)."""
    now = now or datetime.now(UTC)
    year, week, _ = now.isocalendar()
    stamp = f"{year}-W{week:02d}"
    sent = 0
    referents = db.session.scalars(
        select(User).where(User.role == Role.REFERENT, User.active.is_(True)).order_by(User.id)
    ).all()
    for referent in referents:
        key = f"digest:{referent.id}"
        setting = db.session.get(Setting, key)
        if setting is not None and setting.value == stamp:
            continue
        has_people = db.session.scalar(
            select(func.count())
            .select_from(MenteeProfile)
            .where(MenteeProfile.referent_id == referent.id)
        )
        if has_people:
            queue_email("digest", referent, week=week, digest=weekly_digest(referent, now))
            sent += 1
        if setting is None:
            db.session.add(Setting(key=key, value=stamp))
        else:
            setting.value = stamp
        db.session.commit()
    return sent


def remind_tomorrow(now: datetime | None = None) -> int:
    """The day before a planned meeting, remind both people (email and/or SMS, as each accepts:
    no letter, it would come too late). Each meeting is claimed by a conditional UPDATE before
    anything is queued, so running twice (or two runs at once) reminds once. How many meetings."""
    now = now or datetime.now(UTC)
    tomorrow = local_today(now) + timedelta(days=1)
    due = db.session.scalars(
        select(NextMeeting.id)
        .join(Pair, Pair.id == NextMeeting.pair_id)
        .where(
            NextMeeting.day == tomorrow,
            NextMeeting.reminded_at.is_(None),
            Pair.status == PairStatus.ACTIVE,
        )
        .order_by(NextMeeting.id)
    ).all()
    reminded = 0
    for planned_id in due:
        claimed = db.session.execute(
            update(NextMeeting)
            .where(NextMeeting.id == planned_id, NextMeeting.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if changed_rows(claimed) != 1:
            continue
        planned = db.session.get_one(NextMeeting, planned_id)
        db.session.refresh(planned)
        pair = db.session.get_one(Pair, planned.pair_id)
        for person in (pair.mentee, pair.tutor):
            queue_email("meeting_tomorrow", person, pair=pair, planned=planned)
        reminded += 1
    return reminded
