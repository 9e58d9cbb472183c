"""Meetings (rencontres) logged by the tutor of an active binôme."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat import vocab
from tutorat.extensions import Base
from tutorat.models._types import UTCDateTime, utcnow
from tutorat.models.users import User


class Meeting(Base):
    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 720", name="duree_positive"),
        CheckConstraint("mode IN ('in_person', 'phone', 'video')", name="mode_connu"),
        CheckConstraint(
            "mentee_confirmation IS NULL OR mentee_confirmation IN ('confirmed', 'contested')",
            name="confirmation_connue",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"), index=True)
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
