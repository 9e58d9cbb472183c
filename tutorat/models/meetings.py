"""Meetings (rencontres) logged by the tutor of an active binôme, their corrections, and the next
meeting the tutor plans."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat import vocab
from tutorat.extensions import Base
from tutorat.models._types import EnumText, UTCDateTime, in_check, utcnow
from tutorat.models.users import User

CONFIRMATION_LABELS = {None: "à confirmer", "confirmed": "confirmée", "contested": "contestée"}


class Meeting(Base):
    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 720", name="duree_positive"),
        CheckConstraint("mode IN ('in_person', 'phone', 'video')", name="mode_connu"),
        CheckConstraint(
            "mentee_confirmation IS NULL OR mentee_confirmation IN ('confirmed', 'contested')",
            name="confirmation_connue",
        ),
        # A binôme's meetings by date: its last meeting (pair.last_meeting_date, recomputed by the
        # triggers of migration 0027 at each write) is one index seek, not a read of them all.
        Index("ix_meeting_pair_date", "pair_id", "date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"))
    logged_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    date: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(12))
    place: Mapped[str] = mapped_column(String(150), default="")
    topics: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    mentee_confirmation: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    logged_by: Mapped[User] = relationship()

    @property
    def mode_label(self) -> str:
        return vocab.MEETING_MODES.get(self.mode, self.mode)

    @property
    def topic_codes(self) -> list[str]:
        return [c for c in self.topics.split(",") if c]

    @property
    def topics_label(self) -> str:
        """Its topics' labels, comma-separated ("—" without any): what a meetings table shows."""
        return ", ".join(vocab.labels(self.topic_codes, vocab.TOPICS)) or "—"

    @property
    def confirmation_label(self) -> str:
        return CONFIRMATION_LABELS.get(self.mentee_confirmation, "à confirmer")


class MeetingChangeKind(enum.StrEnum):
    CORRECTED = "corrected"
    DELETED = "deleted"

    @property
    def label(self) -> str:
        return {"corrected": "Corrigée", "deleted": "Supprimée"}[self.value]


# The fields a correction may change, in the order the history lists them, with their French name.
CHANGE_FIELDS = {
    "date": "Date",
    "duration_minutes": "Durée",
    "mode": "Façon",
    "place": "Lieu",
    "topics": "Sujets",
    "note": "Note",
    "mentee_confirmation": "Confirmation par la personne",
}


def _shown(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—" if name != "mentee_confirmation" else CONFIRMATION_LABELS[None]
    if name == "date":
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    if name == "duration_minutes":
        return f"{value} min"
    if name == "mode":
        return vocab.MEETING_MODES.get(value, value)
    if name == "topics":
        return ", ".join(vocab.labels([c for c in value.split(",") if c], vocab.TOPICS)) or "—"
    if name == "mentee_confirmation":
        return CONFIRMATION_LABELS.get(value, value)
    return str(value)


class MeetingChange(Base):
    """One correction or deletion of a logged meeting: who, when, each field from what to what.

    `meeting_id` is not a foreign key: the history outlives a deleted meeting (its row goes, this
    one keeps what it said)."""

    __tablename__ = "meeting_change"
    __table_args__ = (
        CheckConstraint(in_check("kind", MeetingChangeKind), name="changement_connu"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[MeetingChangeKind] = mapped_column(EnumText(MeetingChangeKind, 10))
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # {field: [before, after]} (after is None for a deletion), plain JSON values: dates as ISO text;
    # "on": the meeting's date before a correction that left it unchanged.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User] = relationship()

    @property
    def lines(self) -> list[tuple[str, str, str | None]]:
        """(field's French name, before, after) in a stable order, as people read them."""
        out = []
        for name, label in CHANGE_FIELDS.items():
            if name not in self.changes:
                continue
            before, after = self.changes[name]
            shown_after = None if self.kind == MeetingChangeKind.DELETED else _shown(name, after)
            out.append((label, _shown(name, before), shown_after))
        return out

    @property
    def meeting_day(self) -> date | None:
        """The meeting's date as it was before this change."""
        value = (self.changes.get("date") or [self.changes.get("on")])[0]
        return date.fromisoformat(value) if value else None


class NextMeeting(Base):
    """The next meeting the tutor planned with the mentee (one per binôme), reminded the day before."""

    __tablename__ = "next_meeting"
    __table_args__ = (UniqueConstraint("pair_id", name="une_prochaine_rencontre_par_binome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"))
    day: Mapped[date] = mapped_column(Date)
    at_time: Mapped[time | None] = mapped_column(Time)
    place: Mapped[str] = mapped_column(String(150), default="")
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the reminder of the day before was queued; None until then (and again after a change).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def time_label(self) -> str:
        if self.at_time is None:
            return ""
        return f"{self.at_time.hour} h {self.at_time.minute:02d}"
