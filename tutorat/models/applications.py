"""Tutor applications: a person applies (or is invited to), the département vets, then validates or refuses."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat.extensions import Base
from tutorat.models._types import EnumText, UTCDateTime, in_check, utcnow
from tutorat.models.reference import Commune, RomeMetier
from tutorat.models.users import AVAILABILITY_MAX, PickedMetierMixin, User, _codes


class ApplicationStatus(enum.StrEnum):
    """Where an application stands (transitions: `services/vetting.py::APPLICATION_TRANSITIONS`)."""

    INVITED = "invited"  # someone suggested the person apply; they have not yet
    TO_REVIEW = "to_review"  # « à examiner »: the département checks the list, then decides
    VALIDATED = "validated"  # the tutor account exists and may be proposed
    REFUSED = "refused"  # with a reason, emailed to the person
    WITHDRAWN = "withdrawn"  # the person withdrew, or the invitation was cancelled

    @property
    def label(self) -> str:
        return APPLICATION_STATUS_LABELS[self]


APPLICATION_STATUS_LABELS = {
    ApplicationStatus.INVITED: "invitation envoyée",
    ApplicationStatus.TO_REVIEW: "à examiner",
    ApplicationStatus.VALIDATED: "validée",
    ApplicationStatus.REFUSED: "refusée",
    ApplicationStatus.WITHDRAWN: "retirée",
}
# Still in progress: at most one per email address (a partial unique index says so too).
OPEN_APPLICATION_STATUSES = frozenset({ApplicationStatus.INVITED, ApplicationStatus.TO_REVIEW})
DECIDED_APPLICATION_STATUSES = frozenset(
    {ApplicationStatus.VALIDATED, ApplicationStatus.REFUSED, ApplicationStatus.WITHDRAWN}
)


class ApplicationSource(enum.StrEnum):
    """How the application came."""

    PUBLIC = "public"  # the « Devenir tuteur » page
    REFERENT = "referent"  # a référent suggested the person
    FORMER_MENTEE = "former_mentee"  # a mentee whose binôme ended with a job, who said yes
    ADMIN = "admin"  # the département created the tutor account itself

    @property
    def label(self) -> str:
        return APPLICATION_SOURCE_LABELS[self]


APPLICATION_SOURCE_LABELS = {
    ApplicationSource.PUBLIC: "candidature en ligne",
    ApplicationSource.REFERENT: "proposée par un référent",
    ApplicationSource.FORMER_MENTEE: "ancienne bénéficiaire ou ancien bénéficiaire",
    ApplicationSource.ADMIN: "compte créé par l'administration",
}


class ChecklistItem(enum.StrEnum):
    """What the département checks before validating a tutor."""

    IDENTITY = "identity"
    CHARTER = "charter"
    CRIMINAL_RECORD = "criminal_record"
    INFO_MEETING = "info_meeting"

    @property
    def label(self) -> str:
        return CHECKLIST_LABELS[self]


CHECKLIST_LABELS = {
    ChecklistItem.IDENTITY: "identité vérifiée",
    ChecklistItem.CHARTER: "charte acceptée en ligne (version en vigueur)",
    ChecklistItem.CRIMINAL_RECORD: "extrait de casier judiciaire (bulletin n° 3) vu",
    ChecklistItem.INFO_MEETING: "réunion d'information suivie",
}


class TutorApplication(PickedMetierMixin, Base):
    """One person's application to become a tutor, with the département's checklist.

    Until validation the person has no account: what they typed is kept here, seen by the
    administration only. The criminal-record extract is never stored: only the day it was seen.
    """

    __tablename__ = "tutor_application"
    __table_args__ = (
        CheckConstraint(in_check("status", ApplicationStatus), name="statut_connu"),
        CheckConstraint(in_check("source", ApplicationSource), name="origine_connue"),
        CheckConstraint(
            f"availability >= 0 AND availability <= {AVAILABILITY_MAX}", name="creneaux_valides"
        ),
        CheckConstraint("capacity >= 1 AND capacity <= 3", name="capacite_1_a_3"),
        CheckConstraint("max_km >= 0 AND max_km <= 200", name="distance_max_valide"),
        CheckConstraint(
            f"status <> '{ApplicationStatus.REFUSED.value}' OR refusal_reason <> ''",
            name="refus_avec_motif",
        ),
        CheckConstraint(
            f"status <> '{ApplicationStatus.VALIDATED.value}' OR tutor_id IS NOT NULL",
            name="validee_avec_compte",
        ),
        # One application in progress per address.
        Index(
            "uq_tutor_application_open_email",
            "email",
            unique=True,
            sqlite_where=text(f"{in_check('status', OPEN_APPLICATION_STATUSES)}"),
            postgresql_where=text(f"{in_check('status', OPEN_APPLICATION_STATUSES)}"),
        ),
        Index("ix_tutor_application_status", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[ApplicationStatus] = mapped_column(EnumText(ApplicationStatus, 16))
    source: Mapped[ApplicationSource] = mapped_column(EnumText(ApplicationSource, 16))
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("commune.code_insee"))
    metier_code: Mapped[str | None] = mapped_column(ForeignKey("rome_metier.code"))
    # The job title picked on the form (a ROME appellation), carried to the tutor's profile.
    metier_title: Mapped[str] = mapped_column(String(300), default="", server_default="")
    availability: Mapped[int] = mapped_column(Integer, default=0)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    has_car: Mapped[bool] = mapped_column(Boolean, default=False)
    max_km: Mapped[int] = mapped_column(Integer, default=15)
    remote_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    obstacles: Mapped[str] = mapped_column(String(200), default="")
    experience_note: Mapped[str] = mapped_column(Text, default="")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who suggested the person apply (a référent), and their word to the person.
    suggested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    suggestion_note: Mapped[str] = mapped_column(Text, default="")
    # The former mentee this invitation comes from (the loop of the action).
    former_mentee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # The tutor account: created at validation, or from the start when the administration made it.
    tutor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # The checklist.
    identity_checked_on: Mapped[date | None] = mapped_column(Date)
    identity_checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    charter_version: Mapped[int | None] = mapped_column(Integer)
    charter_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    criminal_record_seen_on: Mapped[date | None] = mapped_column(Date)
    criminal_record_seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    info_meeting_on: Mapped[date | None] = mapped_column(Date)
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    commune: Mapped[Commune | None] = relationship()
    metier: Mapped[RomeMetier | None] = relationship()
    suggested_by: Mapped[User | None] = relationship(foreign_keys=[suggested_by_id])
    tutor: Mapped[User | None] = relationship(foreign_keys=[tutor_id])
    identity_checked_by: Mapped[User | None] = relationship(foreign_keys=[identity_checked_by_id])
    criminal_record_seen_by: Mapped[User | None] = relationship(
        foreign_keys=[criminal_record_seen_by_id]
    )
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def obstacle_codes(self) -> list[str]:
        return _codes(self.obstacles)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_APPLICATION_STATUSES


class ApplicationEvent(Base):
    """Every step of an application: a change of status, or an item of the checklist recorded."""

    __tablename__ = "tutor_application_event"
    __table_args__ = (
        CheckConstraint("to_status IS NOT NULL OR item IS NOT NULL", name="statut_ou_etape"),
        CheckConstraint(f"item IS NULL OR {in_check('item', ChecklistItem)}", name="etape_connue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("tutor_application.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None = the person themselves (no account yet) or a scheduled command.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    item: Mapped[ChecklistItem | None] = mapped_column(EnumText(ChecklistItem, 16))
    note: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()


__all__ = [
    "APPLICATION_SOURCE_LABELS",
    "APPLICATION_STATUS_LABELS",
    "CHECKLIST_LABELS",
    "DECIDED_APPLICATION_STATUSES",
    "OPEN_APPLICATION_STATUSES",
    "ApplicationEvent",
    "ApplicationSource",
    "ApplicationStatus",
    "ChecklistItem",
    "TutorApplication",
]
