"""Everything the référent's binôme page lists, read in one query.

The page shows, under the binôme itself: its meetings, its status changes, the questions « Comment
se passe le tutorat ? » and their answers, the private reports, the mentee's goals, the corrections
of meetings, the next meeting, and an ended binôme's outcomes. Eight lists, most of them empty or
short. Read as ORM objects, each was a query with its own round trip and object loading, more than
the page's rendering; here they are one `UNION ALL` of plain columns, built once at import with the
binôme as a bound parameter, each branch tagged with its kind, and split into small rows in Python
(bench/README.md, « Pages web »). The binôme itself is read by the page's own query (its access
check), as plain columns too (`PAIR_COLUMNS`, `PairRow`, with the model's properties).

Each kind declares its fields once (`_KINDS`: name, SQL expression); the branches share one
column layout, a field going to the next free slot of its type, and typed NULLs filling the
rest (PostgreSQL resolves a UNION's column types pairwise, so a bare NULL would not do). The rows
reuse the models' own properties (`Meeting.mode_label`, `CheckIn.answer_label`…): what a code
reads as is written once, in `tutorat/models/`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    Time,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from tutorat.extensions import db
from tutorat.models import (
    CheckIn,
    CheckInAnswer,
    EventEntity,
    Goal,
    GoalStatus,
    Meeting,
    MeetingChange,
    MeetingChangeKind,
    NextMeeting,
    Pair,
    PairAnswer,
    PairOutcome,
    PairReport,
    PairStatus,
    ReportKind,
    StatusEvent,
    User,
)
from tutorat.models._types import UTCDateTime
from tutorat.models.pairs import PAIR_STATUS_LABELS
from tutorat.services.meetings import ChangeRow, newest_first
from tutorat.services.profiles import local_today


@dataclass(slots=True)
class MeetingRow:
    id: int
    date: date
    duration_minutes: int
    mode: str
    place: str
    topics: str
    note: str
    mentee_confirmation: str | None
    mode_label = Meeting.mode_label
    topic_codes = Meeting.topic_codes
    topics_label = Meeting.topics_label


@dataclass(slots=True)
class EventRow:
    id: int
    at: datetime
    actor_id: int | None
    from_status: str | None
    to_status: str
    reason: str
    actor_name: str | None
    on_behalf_of_name: str | None

    @property
    def from_label(self) -> str:
        """The status it left, as the timeline names it ("(création)": the binôme's first event)."""
        if self.from_status is None:
            return "(création)"
        return PAIR_STATUS_LABELS.get(self.from_status, self.from_status)  # type: ignore[call-overload]

    @property
    def to_label(self) -> str:
        return PAIR_STATUS_LABELS.get(self.to_status, self.to_status)  # type: ignore[call-overload]


@dataclass(slots=True)
class CheckInRow:
    id: int
    asked_at: datetime
    answered_at: datetime | None
    person_id: int
    round_number: int
    recorded_by_id: int | None
    answer: CheckInAnswer | None
    comment: str
    answer_label = CheckIn.answer_label


@dataclass(slots=True)
class ReportRow:
    id: int
    created_at: datetime
    handled_at: datetime | None
    author_id: int
    kind: ReportKind
    reason: str | None
    comment: str
    handled_note: str
    author_name: str
    handled_by_name: str | None
    reason_label = PairReport.reason_label
    is_open = PairReport.is_open


@dataclass(slots=True)
class GoalRow:
    id: int
    updated_at: datetime
    text: str
    status: GoalStatus
    updated_by_name: str | None
    status_label = Goal.status_label


@dataclass(slots=True)
class NextMeetingRow:
    day: date
    at_time: time | None
    place: str
    time_label = NextMeeting.time_label


@dataclass(slots=True)
class OutcomeRow:
    outcome: str
    reason: str | None


# The binôme's own columns that its page shows, read as plain columns (`PairRow`, in this order).
PAIR_COLUMNS = (
    Pair.id,
    Pair.request_id,
    Pair.mentee_id,
    Pair.tutor_id,
    Pair.status,
    Pair.score,
    Pair.rank,
    Pair.candidates_count,
    Pair.explanation,
    Pair.algorithm_version,
    Pair.meeting_place,
    Pair.tutor_answer,
    Pair.mentee_answer,
    Pair.decline_reason,
    Pair.decline_detail,
    Pair.outcome_detail,
    Pair.outcome_contract,
    Pair.outcome_rights,
    Pair.tutor_wants_again,
    Pair.mentee_would_help,
    Pair.mentee_would_help_at,
    Pair.help_invited_at,
    Pair.paused_until,
    Pair.reminders_sent,
    Pair.proposed_at,
    Pair.confirmed_at,
    Pair.ended_at,
)


@dataclass(slots=True)
class PairRow:
    """A binôme as its page reads it (`PAIR_COLUMNS`), not an ORM object, with the model's own
    properties; its outcomes (`outcome_rows`) come with its record (`read`)."""

    id: int
    request_id: int
    mentee_id: int
    tutor_id: int
    status: PairStatus
    score: float | None
    rank: int | None
    candidates_count: int | None
    explanation: dict[str, Any]
    algorithm_version: str
    meeting_place: str
    tutor_answer: PairAnswer | None
    mentee_answer: PairAnswer | None
    decline_reason: str | None
    decline_detail: str
    outcome_detail: str
    outcome_contract: str | None
    outcome_rights: str
    tutor_wants_again: bool | None
    mentee_would_help: bool | None
    mentee_would_help_at: datetime | None
    help_invited_at: datetime | None
    paused_until: date | None
    reminders_sent: int
    proposed_at: datetime
    confirmed_at: datetime | None
    ended_at: datetime | None
    outcome_rows: list[OutcomeRow] = field(default_factory=list)
    outcomes = Pair.outcomes
    stop_reason = Pair.stop_reason
    status_label = Pair.status_label
    is_running = Pair.is_running
    is_pending = Pair.is_pending
    is_unanswered = Pair.is_unanswered
    is_started = Pair.is_started
    is_failed_proposal = Pair.is_failed_proposal


@dataclass
class PairRecord:
    """The lists of one binôme, each in the order the page shows it."""

    meetings: list[MeetingRow] = field(default_factory=list)  # the newest first
    events: list[EventRow] = field(default_factory=list)  # the oldest first
    check_ins: list[CheckInRow] = field(default_factory=list)  # the latest round first
    reports: list[ReportRow] = field(default_factory=list)  # the newest first
    goals: list[GoalRow] = field(default_factory=list)  # in the order they were set
    changes: list[ChangeRow] = field(default_factory=list)  # the newest first
    next_meeting: NextMeetingRow | None = None  # still to come (today or later)
    outcomes: list[OutcomeRow] = field(default_factory=list)  # an ended binôme's (`outcome_rows`)


_actor = aliased(User, name="actor")
_other = aliased(User, name="other")


def _name(user) -> Any:
    return user.first_name + " " + user.last_name


_PAIR = bindparam("pair_id", type_=Integer)

# kind: (its fields in the order of its row, the FROM and WHERE of its branch, the row it makes).
# A field's SQL type picks its slot: datetimes, dates, times, integers, text (JSON read as text).
_KINDS: dict[str, tuple[list[Any], Callable[[Select], Select], Callable[..., Any]]] = {
    "meeting": (
        [
            Meeting.id,
            Meeting.date,
            Meeting.duration_minutes,
            Meeting.mode,
            Meeting.place,
            Meeting.topics,
            Meeting.note,
            Meeting.mentee_confirmation,
        ],
        lambda s: s.where(Meeting.pair_id == _PAIR),
        MeetingRow,
    ),
    "event": (
        [
            StatusEvent.id,
            StatusEvent.at,
            StatusEvent.actor_id,
            StatusEvent.from_status,
            StatusEvent.to_status,
            StatusEvent.reason,
            _name(_actor),
            _name(_other),
        ],
        lambda s: (
            s.select_from(StatusEvent)
            .outerjoin(_actor, _actor.id == StatusEvent.actor_id)
            .outerjoin(_other, _other.id == StatusEvent.on_behalf_of_id)
            .where(StatusEvent.entity == EventEntity.PAIR, StatusEvent.entity_id == _PAIR)
        ),
        EventRow,
    ),
    "check_in": (
        [
            CheckIn.id,
            CheckIn.asked_at,
            CheckIn.answered_at,
            CheckIn.person_id,
            CheckIn.round_number,
            CheckIn.recorded_by_id,
            CheckIn.answer,
            CheckIn.comment,
        ],
        lambda s: s.where(CheckIn.pair_id == _PAIR),
        lambda id_, asked, answered, person, round_, recorded_by, answer, comment: CheckInRow(
            id_,
            asked,
            answered,
            person,
            round_,
            recorded_by,
            CheckInAnswer(answer) if answer else None,
            comment,
        ),
    ),
    "report": (
        [
            PairReport.id,
            PairReport.created_at,
            PairReport.handled_at,
            PairReport.author_id,
            PairReport.kind,
            PairReport.reason,
            PairReport.comment,
            PairReport.handled_note,
            _name(_actor),
            _name(_other),
        ],
        lambda s: (
            s.select_from(PairReport)
            .join(_actor, _actor.id == PairReport.author_id)
            .outerjoin(_other, _other.id == PairReport.handled_by_id)
            .where(PairReport.pair_id == _PAIR)
        ),
        lambda id_, at, handled_at, author, kind, reason, comment, note, name, handler: ReportRow(
            id_, at, handled_at, author, ReportKind(kind), reason, comment, note, name, handler
        ),
    ),
    "goal": (
        [Goal.id, Goal.updated_at, Goal.text, Goal.status, _name(_other)],
        lambda s: (
            s.select_from(Goal)
            .outerjoin(_other, _other.id == Goal.updated_by_id)
            .where(Goal.pair_id == _PAIR)
        ),
        lambda id_, at, text, status, name: GoalRow(id_, at, text, GoalStatus(status), name),
    ),
    "change": (
        [
            MeetingChange.id,
            MeetingChange.at,
            MeetingChange.kind,
            _name(_actor),
            cast(MeetingChange.changes, String),
        ],
        lambda s: (
            s.select_from(MeetingChange)
            .join(_actor, _actor.id == MeetingChange.actor_id)
            .where(MeetingChange.pair_id == _PAIR)
        ),
        lambda id_, at, kind, name, changes: ChangeRow(
            id_, at, MeetingChangeKind(kind), name, json.loads(changes)
        ),
    ),
    "outcome": (
        [PairOutcome.outcome, PairOutcome.reason],
        lambda s: s.where(PairOutcome.pair_id == _PAIR),
        OutcomeRow,
    ),
    "next": (
        [NextMeeting.day, NextMeeting.at_time, NextMeeting.place],
        lambda s: s.where(NextMeeting.pair_id == _PAIR, NextMeeting.day >= bindparam("today")),
        NextMeetingRow,
    ),
}


def _slot_type(expr) -> str:
    kind = expr.type
    if isinstance(kind, UTCDateTime):
        return "at"
    if isinstance(kind, Date):
        return "day"
    if isinstance(kind, Time):
        return "time"
    if isinstance(kind, Integer):
        return "int"
    return "text"


_TYPES = {"at": UTCDateTime(), "day": Date(), "time": Time(), "int": Integer(), "text": String()}


def _layout() -> tuple[list[tuple[str, int]], dict[str, list[int]]]:
    """The union's slots, (type, number), and for each kind the slot of each of its fields."""
    widest: dict[str, int] = {}
    for fields, _, _ in _KINDS.values():
        counts: dict[str, int] = {}
        for expr in fields:
            counts[_slot_type(expr)] = counts.get(_slot_type(expr), 0) + 1
        for slot, count in counts.items():
            widest[slot] = max(widest.get(slot, 0), count)
    slots = [(slot, n) for slot in _TYPES for n in range(widest.get(slot, 0))]
    places: dict[str, list[int]] = {}
    for kind, (fields, _, _) in _KINDS.items():
        seen: dict[str, int] = {}
        places[kind] = []
        for expr in fields:
            slot = _slot_type(expr)
            places[kind].append(1 + slots.index((slot, seen.get(slot, 0))))
            seen[slot] = seen.get(slot, 0) + 1
    return slots, places


_SLOTS, _PLACES = _layout()
# Each kind's fields picked from a union row by one itemgetter (every kind has two fields or more,
# so that it gives a tuple), and the row they make.
_MAKERS = {kind: (itemgetter(*_PLACES[kind]), make) for kind, (_, _, make) in _KINDS.items()}
assert all(len(places) > 1 for places in _PLACES.values())


def _branch(kind: str) -> Select:
    fields, narrow, _ = _KINDS[kind]
    columns: list[Any] = [cast(null(), _TYPES[slot]) for slot, _ in _SLOTS]
    for expr, place in zip(fields, _PLACES[kind], strict=True):
        columns[place - 1] = type_coerce(expr, _TYPES[_SLOTS[place - 1][0]])
    return narrow(
        select(
            literal_column(f"'{kind}'", String).label("kind"),
            *(c.label(f"{slot}{n}") for c, (slot, n) in zip(columns, _SLOTS, strict=True)),
        )
    )


_RECORD = union_all(*(_branch(kind) for kind in _KINDS))


def read(pair_id: int, today: date | None = None) -> PairRecord:
    """The lists of the binôme `pair_id` (whose visibility the caller has checked)."""
    record = PairRecord()
    lists: dict[str, list] = {
        "meeting": record.meetings,
        "event": record.events,
        "check_in": record.check_ins,
        "report": record.reports,
        "goal": record.goals,
        "change": record.changes,
        "outcome": record.outcomes,
        "next": [],
    }
    rows = db.session.connection().execute(
        _RECORD, {"pair_id": pair_id, "today": today or local_today()}
    )
    for row in rows:
        pick, make = _MAKERS[row[0]]
        lists[row[0]].append(make(*pick(row)))
    record.meetings.sort(key=lambda m: (m.date, m.id), reverse=True)
    record.events.sort(key=lambda e: (e.at, e.id))
    record.check_ins.sort(key=lambda c: (-c.round_number, c.person_id))
    record.reports.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    record.goals.sort(key=lambda g: g.id)
    newest_first(record.changes)
    record.next_meeting = lists["next"][0] if lists["next"] else None
    return record
