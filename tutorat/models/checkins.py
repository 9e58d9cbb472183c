"""Check-ins: « Comment se passe le tutorat ? », asked to each side of an active binôme."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat import vocab
from tutorat.extensions import Base
from tutorat.models._types import EnumText, UTCDateTime, in_check, utcnow
from tutorat.models.users import User


class CheckInAnswer(enum.StrEnum):
    GOOD = "good"
    AVERAGE = "average"
    BAD = "bad"

    @property
    def label(self) -> str:
        return vocab.CHECKIN_ANSWERS[self.value]


class CheckIn(Base):
    """One question to one person: round 0 after the first meeting, round n after n × 30 days."""

    __tablename__ = "check_in"
    __table_args__ = (
        CheckConstraint(in_check("answer", CheckInAnswer), name="point_reponse_connue"),
        CheckConstraint("round_number >= 0", name="point_tour_positif"),
        # Asked once per person and round, however many times the cron runs.
        UniqueConstraint("pair_id", "person_id", "round_number", name="point_une_fois_par_tour"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    round_number: Mapped[int] = mapped_column()
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[CheckInAnswer | None] = mapped_column(EnumText(CheckInAnswer, 10))
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The référent, when the person answered by phone (a letter or an SMS asked them to call);
    # None when the person answered on their page.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    person: Mapped[User] = relationship(foreign_keys=[person_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    @property
    def answer_label(self) -> str:
        return self.answer.label if self.answer else "Pas encore répondu"
