"""What the mentee or the tutor tells the référent privately: a stop request or a problem."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat import vocab
from tutorat.extensions import Base
from tutorat.models._types import EnumText, UTCDateTime, in_check, utcnow
from tutorat.models.users import User


class ReportKind(enum.StrEnum):
    STOP = "stop"  # asks to stop the binôme (the pair moves to stop_requested)
    PROBLEM = "problem"  # a problem told to the référent only

    @property
    def label(self) -> str:
        return REPORT_KIND_LABELS[self]


REPORT_KIND_LABELS = {
    ReportKind.STOP: "Demande d'arrêt",
    ReportKind.PROBLEM: "Problème signalé",
}


class PairReport(Base):
    """Private to the référent (and the admin): never shown to the other person of the binôme."""

    __tablename__ = "pair_report"
    __table_args__ = (
        CheckConstraint(in_check("kind", ReportKind), name="signalement_type_connu"),
        CheckConstraint("kind <> 'stop' OR reason IS NOT NULL", name="arret_avec_raison"),
        CheckConstraint(
            "kind <> 'problem' OR length(comment) > 0", name="probleme_avec_description"
        ),
        # The référent's alert: the reports still to handle.
        Index("ix_pair_report_open", "pair_id", "handled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[ReportKind] = mapped_column(EnumText(ReportKind, 10))
    reason: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    handled_note: Mapped[str] = mapped_column(Text, default="")

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id])

    @property
    def reason_label(self) -> str:
        return vocab.STOP_REQUEST_REASONS.get(self.reason or "", self.reason or "")

    @property
    def is_open(self) -> bool:
        return self.handled_at is None
