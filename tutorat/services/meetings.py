"""Meetings logged by the tutor of an active binôme, confirmed or contested by the mentee.

The tutor may correct or delete a meeting within `EDIT_DAYS` days of logging it; each change is
kept (`MeetingChange`: who, when, each field from what to what), and a meeting the mentee had
confirmed or contested goes back to « à confirmer » once corrected: she confirms what it now says.
The tutor may also plan the next meeting (`NextMeeting`), shown to both and reminded the day
before by `flask run-reminders` (`followup.remind_tomorrow`, once whatever the number of runs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    Meeting,
    MeetingChange,
    MeetingChangeKind,
    NextMeeting,
    Pair,
    PairStatus,
    User,
)
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.profiles import PARIS, local_today

EDIT_DAYS = 7  # a logged meeting may be corrected or deleted this many days after being logged
PLACE_MAX = 150
NOTE_MAX = 1000
NEXT_MAX_DAYS = 183  # a next meeting is planned at most about six months ahead


def _checked(
    pair: Pair,
    *,
    day: date | None,
    duration_minutes: int | None,
    mode: str | None,
    place: str,
    topics: list[str] | None,
    note: str,
    today: date,
) -> dict[str, Any]:
    """The meeting's fields, checked as the tutor typed them (French message on the field)."""
    if day is None:
        raise DomainError("Indiquez une date valide (jj/mm/aaaa).", field="date")
    if day > today:
        raise DomainError("La date de la rencontre ne peut pas être dans le futur.", field="date")
    if day < pair.proposed_at.astimezone(PARIS).date():
        raise DomainError(
            "La date de la rencontre est antérieure à la formation du binôme.", field="date"
        )
    if duration_minutes is None or not 0 < duration_minutes <= 720:
        raise DomainError(
            "La durée doit être comprise entre 1 minute et 12 heures.", field="duration"
        )
    if mode not in vocab.MEETING_MODES:
        raise DomainError("Choisissez comment la rencontre s'est faite.", field="mode")
    topics = topics or []
    if any(t not in vocab.TOPICS for t in topics):
        raise DomainError("Sujet inconnu : choisissez dans la liste.", field="topics")
    place, note = (place or "").strip(), (note or "").strip()
    if len(place) > PLACE_MAX:
        raise DomainError(f"Le lieu ne doit pas dépasser {PLACE_MAX} caractères.", field="place")
    if len(note) > NOTE_MAX:
        raise DomainError(f"La note ne doit pas dépasser {NOTE_MAX} caractères.", field="note")
    return {
        "date": day,
        "duration_minutes": duration_minutes,
        "mode": mode,
        "place": place,
        "topics": ",".join(t for t in vocab.TOPICS if t in topics),
        "note": note,
    }


def log_meeting(
    pair: Pair,
    *,
    actor: User,
    day: date | None,
    duration_minutes: int | None,
    mode: str | None,
    place: str = "",
    topics: list[str] | None = None,
    note: str = "",
    next_day: date | None = None,
    next_time: time | None = None,
    next_place: str = "",
    now: datetime | None = None,
) -> Meeting:
    """Log a meeting; with `next_day`, plan the next one in the same step. A planned meeting on
    or before the logged one has taken place: it is no longer « à venir »."""
    if actor.id != pair.tutor_id:
        raise DomainError("Seul le tuteur du binôme peut noter une rencontre.")
    if pair.status != PairStatus.ACTIVE:
        raise DomainError("On ne peut noter une rencontre que pour un binôme actif.")
    now = now or datetime.now(UTC)
    values = _checked(
        pair,
        day=day,
        duration_minutes=duration_minutes,
        mode=mode,
        place=place,
        topics=topics,
        note=note,
        today=local_today(now),
    )
    meeting = Meeting(pair_id=pair.id, logged_by_id=actor.id, created_at=now, **values)
    db.session.add(meeting)
    planned = _next_row(pair)
    if next_day is not None:
        plan_next_meeting(
            pair, actor=actor, day=next_day, at_time=next_time, place=next_place, now=now
        )
    elif planned is not None and planned.day <= values["date"]:
        db.session.delete(planned)
    db.session.flush()
    return meeting


def confirm_meeting(meeting: Meeting, pair: Pair, *, actor: User, confirmed: bool) -> None:
    if actor.id != pair.mentee_id:
        raise DomainError("Seule la personne accompagnée peut confirmer cette rencontre.")
    meeting.mentee_confirmation = "confirmed" if confirmed else "contested"


def editable_until(meeting: Meeting) -> datetime:
    return meeting.created_at + timedelta(days=EDIT_DAYS)


def can_change(meeting: Meeting, pair: Pair, now: datetime | None = None) -> bool:
    """Whether the tutor may still correct or delete it (the page shows the link only then)."""
    return pair.status != PairStatus.ENDED and (now or datetime.now(UTC)) <= editable_until(meeting)


def _check_change(meeting: Meeting, pair: Pair, actor: User, now: datetime) -> None:
    if meeting.pair_id != pair.id or actor.id != pair.tutor_id:
        raise DomainError("Seul le tuteur du binôme peut modifier ses rencontres.")
    if pair.status == PairStatus.ENDED:
        raise Conflict("Ce binôme est terminé : ses rencontres ne peuvent plus être modifiées.")
    if now > editable_until(meeting):
        logged = meeting.created_at.astimezone(PARIS).date()
        raise Conflict(
            f"Cette rencontre a été notée le {logged:%d/%m/%Y} : on ne peut la corriger ou la "
            f"supprimer que dans les {EDIT_DAYS} jours. Si elle est inexacte, dites-le à votre "
            "référent."
        )


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _snapshot(meeting: Meeting) -> dict[str, Any]:
    return {
        "date": meeting.date,
        "duration_minutes": meeting.duration_minutes,
        "mode": meeting.mode,
        "place": meeting.place,
        "topics": meeting.topics,
        "note": meeting.note,
        "mentee_confirmation": meeting.mentee_confirmation,
    }


def correct_meeting(
    meeting: Meeting,
    pair: Pair,
    *,
    actor: User,
    day: date | None,
    duration_minutes: int | None,
    mode: str | None,
    place: str = "",
    topics: list[str] | None = None,
    note: str = "",
    now: datetime | None = None,
) -> MeetingChange:
    """Correct a meeting within `EDIT_DAYS` days of logging it; the change is kept. A confirmed
    (or contested) meeting goes back to « à confirmer »: the mentee confirms what it now says."""
    now = now or datetime.now(UTC)
    _check_change(meeting, pair, actor, now)
    values = _checked(
        pair,
        day=day,
        duration_minutes=duration_minutes,
        mode=mode,
        place=place,
        topics=topics,
        note=note,
        today=local_today(now),
    )
    before = _snapshot(meeting)
    changes = {
        name: [_plain(before[name]), _plain(value)]
        for name, value in values.items()
        if before[name] != value
    }
    if not changes:
        raise DomainError("Vous n'avez rien changé : la rencontre reste telle qu'elle était.")
    if meeting.mentee_confirmation is not None:
        changes["mentee_confirmation"] = [meeting.mentee_confirmation, None]
        meeting.mentee_confirmation = None
    changes["on"] = _plain(meeting.date)  # which meeting, for the history (not a change)
    for name, value in values.items():
        setattr(meeting, name, value)
    change = MeetingChange(
        pair_id=pair.id,
        meeting_id=meeting.id,
        kind=MeetingChangeKind.CORRECTED,
        actor_id=actor.id,
        at=now,
        changes=changes,
    )
    db.session.add(change)
    db.session.flush()
    return change


def delete_meeting(
    meeting: Meeting, pair: Pair, *, actor: User, now: datetime | None = None
) -> MeetingChange:
    """Delete a meeting logged by mistake, within `EDIT_DAYS` days; what it said is kept."""
    now = now or datetime.now(UTC)
    _check_change(meeting, pair, actor, now)
    change = MeetingChange(
        pair_id=pair.id,
        meeting_id=meeting.id,
        kind=MeetingChangeKind.DELETED,
        actor_id=actor.id,
        at=now,
        changes={
            name: [_plain(value), None]
            for name, value in _snapshot(meeting).items()
            if value not in (None, "")
        },
    )
    db.session.add(change)
    db.session.delete(meeting)
    db.session.flush()
    return change


@dataclass(slots=True)
class ChangeRow:
    """One correction or deletion of a meeting, as the pages list it (a plain row, not an ORM
    object), with the model's own reading of what changed."""

    id: int
    at: datetime
    kind: MeetingChangeKind
    actor_name: str
    changes: dict[str, Any]
    lines = MeetingChange.lines
    meeting_day = MeetingChange.meeting_day


def newest_first(changes: list[ChangeRow]) -> list[ChangeRow]:
    changes.sort(key=lambda c: (c.at, c.id), reverse=True)
    return changes


_CHANGES = (  # built once, the binôme bound at each request
    select(
        MeetingChange.id,
        MeetingChange.at,
        MeetingChange.kind,
        (User.first_name + " " + User.last_name).label("actor_name"),
        MeetingChange.changes,
    )
    .join(User, User.id == MeetingChange.actor_id)
    .where(MeetingChange.pair_id == bindparam("pair_id"))
)


def changes_of(pair: Pair) -> list[ChangeRow]:
    """The corrections and deletions of the binôme's meetings, the newest first, with who made
    them (one query, whatever their number)."""
    rows = db.session.connection().execute(_CHANGES, {"pair_id": pair.id})
    return newest_first([ChangeRow(*row) for row in rows])


def corrected_on(pair: Pair) -> dict[int, datetime]:
    """{meeting id: when it was last corrected}, for the mentee's page: she confirms a corrected
    meeting again, and is told why it is asked again (not what changed: that is the tutor's
    history, with their note)."""
    rows = db.session.execute(
        select(MeetingChange.meeting_id, func.max(MeetingChange.at))
        .where(
            MeetingChange.pair_id == pair.id,
            MeetingChange.kind == MeetingChangeKind.CORRECTED,
        )
        .group_by(MeetingChange.meeting_id)
    ).all()
    return {meeting_id: at for meeting_id, at in rows}


# ---- The next meeting ----


def _next_row(pair: Pair) -> NextMeeting | None:
    return db.session.scalars(select(NextMeeting).where(NextMeeting.pair_id == pair.id)).first()


def plan_next_meeting(
    pair: Pair,
    *,
    actor: User,
    day: date | None,
    at_time: time | None = None,
    place: str = "",
    now: datetime | None = None,
) -> NextMeeting:
    """Plan (or move) the binôme's next meeting; moved, it is reminded again the day before."""
    if actor.id != pair.tutor_id:
        raise DomainError("Seul le tuteur du binôme peut fixer la prochaine rencontre.")
    if pair.status != PairStatus.ACTIVE:
        raise DomainError("On ne peut prévoir une rencontre que pour un binôme actif.")
    now = now or datetime.now(UTC)
    local = now.astimezone(PARIS)
    if day is None:
        raise DomainError(
            "Indiquez la date de la prochaine rencontre (jj/mm/aaaa).", field="next_date"
        )
    if day < local.date() or (
        day == local.date() and at_time is not None and at_time < local.time().replace(tzinfo=None)
    ):
        raise DomainError(
            "La prochaine rencontre ne peut pas être dans le passé : choisissez aujourd'hui ou "
            "un jour à venir.",
            field="next_date",
        )
    if day > local.date() + timedelta(days=NEXT_MAX_DAYS):
        raise DomainError("Choisissez une date dans les six mois à venir.", field="next_date")
    place = (place or "").strip()
    if len(place) > PLACE_MAX:
        raise DomainError(
            f"Le lieu ne doit pas dépasser {PLACE_MAX} caractères.", field="next_place"
        )
    planned = _next_row(pair)
    if planned is None:
        planned = NextMeeting(pair_id=pair.id)
        db.session.add(planned)
    elif (planned.day, planned.at_time) != (day, at_time):
        planned.reminded_at = None  # a new day (or hour): reminded again the day before
    planned.day, planned.at_time, planned.place = day, at_time, place
    planned.set_by_id, planned.set_at = actor.id, now
    db.session.flush()
    return planned


def cancel_next_meeting(pair: Pair, *, actor: User) -> None:
    if actor.id != pair.tutor_id:
        raise DomainError("Seul le tuteur du binôme peut changer la prochaine rencontre.")
    planned = _next_row(pair)
    if planned is None:
        raise Conflict("Aucune prochaine rencontre n'était prévue.")
    db.session.delete(planned)
    db.session.flush()


def next_meeting_of(pair: Pair, now: datetime | None = None) -> NextMeeting | None:
    """The planned meeting still to come (today or later), if the binôme is running."""
    return next_meetings_for([pair], now).get(pair.id)


def next_meetings_for(pairs: Iterable[Pair], now: datetime | None = None) -> dict[int, NextMeeting]:
    """{pair id: its meeting to come} for running binômes, in one query (home pages)."""
    ids = [p.id for p in pairs if p.is_running]
    if not ids:
        return {}
    today = local_today(now)
    rows = db.session.scalars(
        select(NextMeeting).where(NextMeeting.pair_id.in_(ids), NextMeeting.day >= today)
    )
    return {row.pair_id: row for row in rows}
