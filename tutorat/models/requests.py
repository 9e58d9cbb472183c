"""The demande de tutorat: what a mentee asks for."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat.extensions import Base
from tutorat.models._types import EnumText, UTCDateTime, in_check, utcnow
from tutorat.models.users import User


class TutoringRequestStatus(enum.StrEnum):
    OPEN = "open"
    # No tutor fits for now: set aside by the référent with a reason, re-checked by run-reminders.
    WAITING = "waiting"
    PROPOSED = "proposed"
    MATCHED = "matched"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return TUTORING_REQUEST_STATUS_LABELS[self]


TUTORING_REQUEST_STATUS_LABELS = {
    TutoringRequestStatus.OPEN: "En attente d'une proposition",
    TutoringRequestStatus.WAITING: "En liste d'attente (aucun tuteur possible)",
    TutoringRequestStatus.PROPOSED: "Proposition en cours",
    TutoringRequestStatus.MATCHED: "Binôme formé",
    TutoringRequestStatus.CANCELLED: "Annulée",
}
# A demande still waiting for a binôme: at most one per mentee.
LIVE_REQUEST_STATUSES = frozenset(
    {TutoringRequestStatus.OPEN, TutoringRequestStatus.WAITING, TutoringRequestStatus.PROPOSED}
)
# A demande without a binôme nor a proposal: a tutor is still to be found for it.
UNMATCHED_REQUEST_STATUSES = frozenset({TutoringRequestStatus.OPEN, TutoringRequestStatus.WAITING})
LIVE_REQUEST_SQL = in_check("status", LIVE_REQUEST_STATUSES)


class TutoringRequest(Base):
    __tablename__ = "tutoring_request"
    __table_args__ = (
        CheckConstraint(in_check("status", TutoringRequestStatus), name="statut_connu"),
        # PRODUCT.md: one open demande per mentee.
        Index(
            "uq_demande_ouverte_par_beneficiaire",
            "mentee_id",
            unique=True,
            sqlite_where=text(LIVE_REQUEST_SQL),
            postgresql_where=text(LIVE_REQUEST_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[TutoringRequestStatus] = mapped_column(
        EnumText(TutoringRequestStatus, 10), default=TutoringRequestStatus.OPEN, index=True
    )
    topics: Mapped[str] = mapped_column(String(200), default="")
    meeting_modes: Mapped[str] = mapped_column(String(60), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    constraints: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    mentee: Mapped[User] = relationship(foreign_keys=[mentee_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    @property
    def status_label(self) -> str:
        return TUTORING_REQUEST_STATUS_LABELS[self.status]

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_REQUEST_STATUSES

    @property
    def topic_codes(self) -> list[str]:
        return [c for c in self.topics.split(",") if c]

    @property
    def mode_codes(self) -> list[str]:
        return [c for c in self.meeting_modes.split(",") if c]
