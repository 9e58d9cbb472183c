"""Meetings logged by the tutor of an active binôme, confirmed or contested by the mentee."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import Meeting, Pair, PairStatus, User
from tutorat.services.errors import DomainError


def log_meeting(
    pair: Pair,
    *,
    actor: User,
    day: date,
    duration_minutes: int,
    mode: str,
    place: str = "",
    topics: list[str] | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Meeting:
    if actor.id != pair.tutor_id:
        raise DomainError("Seul le tuteur du binôme peut noter une rencontre.")
    if pair.status != PairStatus.ACTIVE:
        raise DomainError("On ne peut noter une rencontre que pour un binôme actif.")
    now = now or datetime.now(UTC)
    today = now.date()
    if day > today:
        raise DomainError("La date de la rencontre ne peut pas être dans le futur.", field="date")
    if day < pair.proposed_at.date():
        raise DomainError(
            "La date de la rencontre est antérieure à la formation du binôme.", field="date"
        )
    if not 0 < duration_minutes <= 720:
        raise DomainError(
            "La durée doit être comprise entre 1 minute et 12 heures.", field="duration"
        )
    if mode not in vocab.MEETING_MODES:
        raise DomainError("Choisissez comment la rencontre s'est faite.", field="mode")
    topics = topics or []
    if any(t not in vocab.TOPICS for t in topics):
        raise DomainError("Sujet inconnu : choisissez dans la liste.", field="topics")
    meeting = Meeting(
        pair_id=pair.id,
        logged_by_id=actor.id,
        date=day,
        duration_minutes=duration_minutes,
        mode=mode,
        place=place.strip(),
        topics=",".join(topics),
        note=note.strip(),
        created_at=now,
    )
    db.session.add(meeting)
    db.session.flush()
    return meeting


def confirm_meeting(meeting: Meeting, pair: Pair, *, actor: User, confirmed: bool) -> None:
    if actor.id != pair.mentee_id:
        raise DomainError("Seule la personne accompagnée peut confirmer cette rencontre.")
    meeting.mentee_confirmation = "confirmed" if confirmed else "contested"
