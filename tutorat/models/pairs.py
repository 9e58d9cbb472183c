"""The binôme: a proposed, then active, tutor–mentee pair."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat import vocab
from tutorat.extensions import Base
from tutorat.models._types import EnumText, UTCDateTime, in_check, utcnow
from tutorat.models.requests import TutoringRequest
from tutorat.models.users import User


class PairStatus(enum.StrEnum):
    PROPOSED = "proposed"
    TUTOR_ACCEPTED = "tutor_accepted"
    MENTEE_ACCEPTED = "mentee_accepted"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    # The mentee or the tutor paused the binôme until a date (`Pair.paused_until`).
    PAUSED = "paused"
    # The mentee or the tutor asked to stop: the référent ends it, or resumes it.
    STOP_REQUESTED = "stop_requested"
    ENDED = "ended"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return PAIR_STATUS_LABELS[self]


PAIR_STATUS_LABELS = {
    PairStatus.PROPOSED: "Proposé, en attente des réponses",
    PairStatus.TUTOR_ACCEPTED: "Accepté par le tuteur, en attente du bénéficiaire",
    PairStatus.MENTEE_ACCEPTED: "Accepté par le bénéficiaire, en attente du tuteur",
    PairStatus.ACCEPTED: "Accepté par les deux, à confirmer par le référent",
    PairStatus.ACTIVE: "Actif",
    PairStatus.PAUSED: "En pause",
    PairStatus.STOP_REQUESTED: "Arrêt demandé, en attente du référent",
    PairStatus.ENDED: "Terminé",
    PairStatus.DECLINED: "Refusé",
    PairStatus.EXPIRED: "Expiré sans réponse",
    PairStatus.WITHDRAWN: "Retiré par le référent",
}
# The same, on the mentee's own pages: she is « vous », never « le bénéficiaire ».
MENTEE_PAIR_STATUS_LABELS = {
    **PAIR_STATUS_LABELS,
    PairStatus.PROPOSED: "Proposé, en attente de votre réponse et de celle du tuteur",
    PairStatus.TUTOR_ACCEPTED: "Accepté par le tuteur, en attente de votre réponse",
    PairStatus.MENTEE_ACCEPTED: "Vous avez accepté, en attente de la réponse du tuteur",
    PairStatus.ACCEPTED: "Accepté par vous et par le tuteur, à confirmer par votre référent",
    PairStatus.STOP_REQUESTED: "Arrêt demandé, en attente de votre référent",
    PairStatus.WITHDRAWN: "Retiré par votre référent",
}


class StopReason(enum.StrEnum):
    """Why a binôme stopped without result (labels: vocab.STOP_REASONS)."""

    DROPPED_OUT = "dropped_out"
    DISAGREEMENT = "disagreement"
    MOVED = "moved"
    HEALTH = "health"
    OTHER = "other"


class PairAnswer(enum.StrEnum):
    """What the tutor or the mentee answered to a proposal (`Pair.tutor_answer`, `mentee_answer`)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


# A binôme that holds the mentee and a place of the tutor: at most one per mentee.
LIVE_PAIR_STATUSES = frozenset(
    {
        PairStatus.PROPOSED,
        PairStatus.TUTOR_ACCEPTED,
        PairStatus.MENTEE_ACCEPTED,
        PairStatus.ACCEPTED,
        PairStatus.ACTIVE,
        PairStatus.PAUSED,
        PairStatus.STOP_REQUESTED,
    }
)
# A binôme the référent confirmed and that has not ended: active, paused, or waiting for its end.
RUNNING_PAIR_STATUSES = frozenset({PairStatus.ACTIVE, PairStatus.PAUSED, PairStatus.STOP_REQUESTED})
# A proposal not yet confirmed by the référent.
PENDING_PAIR_STATUSES = LIVE_PAIR_STATUSES - RUNNING_PAIR_STATUSES
# A proposal someone has still to answer: reminded, then expired (`services/followup.py`).
UNANSWERED_PAIR_STATUSES = PENDING_PAIR_STATUSES - {PairStatus.ACCEPTED}
# A proposal that ended without a binôme.
FAILED_PROPOSAL_STATUSES = frozenset(
    {PairStatus.DECLINED, PairStatus.EXPIRED, PairStatus.WITHDRAWN}
)
# A proposal declined or expired: the demande is back in the queue and another tutor is to be
# proposed (the dashboard's recent changes; a withdrawal is the référent's own doing, not news).
RECENT_FAILURE_STATUSES = frozenset({PairStatus.DECLINED, PairStatus.EXPIRED})
# A binôme that was (or is) active: it has meetings and an end.
STARTED_PAIR_STATUSES = RUNNING_PAIR_STATUSES | {PairStatus.ENDED}
LIVE_PAIR_SQL = in_check("status", LIVE_PAIR_STATUSES)


class Pair(Base):
    __tablename__ = "pair"
    __table_args__ = (
        CheckConstraint(in_check("status", PairStatus), name="statut_connu"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 1)", name="score_entre_0_et_1"),
        CheckConstraint("mentee_id <> tutor_id", name="personnes_distinctes"),
        CheckConstraint(
            "mentee_would_help IS NULL OR mentee_would_help_at IS NOT NULL",
            name="reponse_aider_datee",
        ),
        # PRODUCT.md: one live binôme per mentee.
        Index(
            "uq_binome_vivant_par_beneficiaire",
            "mentee_id",
            unique=True,
            sqlite_where=text(LIVE_PAIR_SQL),
            postgresql_where=text(LIVE_PAIR_SQL),
        ),
        Index("ix_pair_tutor_status", "tutor_id", "status"),
        # A référent's pages and indicators start from their caseload's mentees (migration 0007).
        Index("ix_pair_mentee_status", "mentee_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("tutoring_request.id"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    tutor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[PairStatus] = mapped_column(
        EnumText(PairStatus, 16), default=PairStatus.PROPOSED, index=True
    )
    # What the algorithm said when the référent chose: kept for the CRPA explanation.
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column()
    candidates_count: Mapped[int | None] = mapped_column()
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    weights: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The ranked list the référent chose from: [{"tutor_id", "rank", "parts": {part: value}}], best first (None for
    # a proposal made by batch matching, or before migration 0013). "Ce que montrent les décisions" learns from it.
    shown_candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    algorithm_version: Mapped[str] = mapped_column(String(20), default="")
    meeting_place: Mapped[str] = mapped_column(String(150), default="")
    tutor_answer: Mapped[PairAnswer | None] = mapped_column(EnumText(PairAnswer, 10))
    mentee_answer: Mapped[PairAnswer | None] = mapped_column(EnumText(PairAnswer, 10))
    decline_reason: Mapped[str | None] = mapped_column(String(30))
    decline_detail: Mapped[str] = mapped_column(Text, default="")
    end_reason: Mapped[str | None] = mapped_column(String(30))
    outcome_detail: Mapped[str] = mapped_column(Text, default="")
    # Job outcome: contract type; rights outcome: which rights were opened (codes, comma-separated).
    outcome_contract: Mapped[str | None] = mapped_column(String(20))
    outcome_rights: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Asked of the tutor once the binôme has ended (on their side), never typed by the référent.
    tutor_wants_again: Mapped[bool | None] = mapped_column(Boolean)
    # The loop of the action (services/loop.py): after a binôme ended with a job or leaving the
    # RSA, the mentee says whether she would like, later, to help someone in turn (and when);
    # when she said yes, `flask run-reminders` invites her to apply some months after the end.
    mentee_would_help: Mapped[bool | None] = mapped_column(Boolean)
    mentee_would_help_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    help_invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Until when the binôme is paused (Europe/Paris day, included); it resumes the day after.
    paused_until: Mapped[date | None] = mapped_column(Date)
    # The date of the binôme's last meeting (None if none): kept by the database's triggers on
    # meeting (migration 0027) in the transaction of every write, never written here.
    last_meeting_date: Mapped[date | None] = mapped_column(Date)
    # Reminders already sent for an unanswered proposal (0, 1 after 3 days, 2 after 7 days).
    reminders_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    request: Mapped[TutoringRequest] = relationship()
    mentee: Mapped[User] = relationship(foreign_keys=[mentee_id])
    tutor: Mapped[User] = relationship(foreign_keys=[tutor_id])
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    # Loaded when read (an ended binôme's page), in vocabulary order by `outcomes`.
    outcome_rows: Mapped[list[PairOutcome]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def outcomes(self) -> list[str]:
        """The binôme's outcomes (codes of vocab.OUTCOMES), in the vocabulary's order."""
        codes = {row.outcome for row in self.outcome_rows}
        return [code for code in vocab.OUTCOMES if code in codes] + sorted(
            codes - set(vocab.OUTCOMES)
        )

    @property
    def stop_reason(self) -> str | None:
        """Why the binôme stopped without result (vocab.STOP_REASONS), if it did."""
        return next((row.reason for row in self.outcome_rows if row.reason), None)

    @property
    def status_label(self) -> str:
        return PAIR_STATUS_LABELS[self.status]

    @property
    def status_label_for_mentee(self) -> str:
        return MENTEE_PAIR_STATUS_LABELS[self.status]

    @property
    def referent(self) -> User:
        """The mentee's référent unique, who follows the binôme (every mentee has a profile)."""
        return self.mentee.require_mentee_profile().referent

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_PAIR_STATUSES

    @property
    def is_running(self) -> bool:
        """Confirmed and not ended: active, paused, or with a stop requested."""
        return self.status in RUNNING_PAIR_STATUSES

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_PAIR_STATUSES

    @property
    def is_unanswered(self) -> bool:
        return self.status in UNANSWERED_PAIR_STATUSES

    @property
    def is_started(self) -> bool:
        """Active or ended: the binôme has met (or could), so it has meetings and an end."""
        return self.status in STARTED_PAIR_STATUSES

    @property
    def is_failed_proposal(self) -> bool:
        return self.status in FAILED_PROPOSAL_STATUSES


class PairOutcome(Base):
    """One outcome of an ended binôme: a binôme may have several (a job and leaving the RSA).

    The "stopped" outcome (without result) carries its reason, and only it."""

    __tablename__ = "pair_outcome"
    __table_args__ = (
        CheckConstraint(
            f"reason IS NULL OR (outcome = '{vocab.STOPPED_OUTCOME}' AND "
            + in_check("reason", StopReason)
            + ")",
            name="raison_d_arret_connue",
        ),
    )

    pair_id: Mapped[int] = mapped_column(
        ForeignKey("pair.id", ondelete="CASCADE"), primary_key=True
    )
    outcome: Mapped[str] = mapped_column(String(30), primary_key=True)
    reason: Mapped[str | None] = mapped_column(String(20))
