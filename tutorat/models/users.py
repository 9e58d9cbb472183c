"""Accounts (four roles) and the profiles of mentees and tutors."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat.extensions import Base
from tutorat.models._types import EnumText, UTCDateTime, in_check, utcnow
from tutorat.models.reference import Commune, RomeMetier


class Role(enum.StrEnum):
    MENTEE = "mentee"
    TUTOR = "tutor"
    REFERENT = "referent"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


# Who works on the service (as opposed to those it serves).
STAFF_ROLES = frozenset({Role.REFERENT, Role.ADMIN})
ROLE_LABELS = {
    Role.MENTEE: "Bénéficiaire",
    Role.TUTOR: "Tuteur ou tutrice",
    Role.REFERENT: "Référent ou référente",
    Role.ADMIN: "Administration",
}

# For headings and tabs: « Comptes : tuteurs et tutrices ».
ROLE_PLURAL_LABELS = {
    Role.MENTEE: "Bénéficiaires",
    Role.TUTOR: "Tuteurs et tutrices",
    Role.REFERENT: "Référents et référentes",
    Role.ADMIN: "Administrateurs",
}

AVAILABILITY_MAX = (1 << 21) - 1


def _codes(value: str | None) -> list[str]:
    return [c for c in (value or "").split(",") if c]


class User(UserMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(in_check("role", Role), name="role_connu"),
        CheckConstraint(
            f"role = '{Role.MENTEE.value}' OR email IS NOT NULL",
            name="email_obligatoire_hors_beneficiaire",
        ),
        CheckConstraint(
            "postal_code IS NULL OR length(postal_code) = 5", name="code_postal_5_chiffres"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(EnumText(Role, 10))
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(20))
    organisation: Mapped[str | None] = mapped_column(String(150))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped to end every session of the account (logout everywhere, password change).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which emails the person wants (those about their own account's security are always sent).
    notify_proposals: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_digest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # A référent: the emails about a report or a stop request on a binôme of their caseload.
    notify_reports: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Brute force: failed logins in a row, and a temporary lock.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who recorded the consent (the person, or their référent for someone without email).
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    erasure_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Postal address, for letters (the commune is the profile's); the postal code must be one of
    # the commune's (services/contact.py checks it).
    street_address: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    # How the person wants to be reached (several allowed): by email, by SMS, by post.
    contact_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    contact_sms: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    contact_letter: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The person answered STOP to an SMS: no SMS any more until they tick SMS again.
    sms_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    mentee_profile: Mapped[MenteeProfile | None] = relationship(
        back_populates="user", foreign_keys="MenteeProfile.user_id", uselist=False
    )
    tutor_profile: Mapped[TutorProfile | None] = relationship(back_populates="user", uselist=False)

    def require_mentee_profile(self) -> MenteeProfile:
        """The profile of a mentee (created with every mentee account); LookupError otherwise."""
        if self.mentee_profile is None:
            raise LookupError(f"compte n° {self.id} : pas de profil de bénéficiaire")
        return self.mentee_profile

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    def get_id(self) -> str:
        # The session version is part of the id: bumping it invalidates old cookies.
        return f"{self.id}:{self.session_version}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def is_mentee(self) -> bool:
        return self.role == Role.MENTEE

    @property
    def is_tutor(self) -> bool:
        return self.role == Role.TUTOR

    @property
    def is_referent(self) -> bool:
        return self.role == Role.REFERENT

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class _PlaceMixin:
    """Where a person lives, when they are free, how they move: shared by both profiles."""

    availability: Mapped[int] = mapped_column(Integer, default=0)
    has_car: Mapped[bool] = mapped_column(Boolean, default=False)
    max_km: Mapped[int] = mapped_column(Integer, default=15)
    remote_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    obstacles: Mapped[str] = mapped_column(String(200), default="")
    # Set only by anonymisation, when the commune was too small to keep (privacy.coarse_place).
    canton_code: Mapped[str | None] = mapped_column(String(4))

    @property
    def obstacle_codes(self) -> list[str]:
        return _codes(self.obstacles)


class PickedMetierMixin:
    """A tutor's trade: the ROME code and the job title picked (a ROME appellation), kept by the
    tutor's profile and, before it exists, by the tutor's application."""

    if TYPE_CHECKING:  # the columns are declared by each class (the mixin maps nothing)
        metier_code: str | None
        metier_title: str
        metier: RomeMetier | None

    @property
    def metier_shown(self) -> str:
        """The job title picked, else the métier's ROME label."""
        if self.metier_title:
            return self.metier_title
        return self.metier.label if self.metier is not None else (self.metier_code or "")


class MenteeProfile(_PlaceMixin, Base):
    __tablename__ = "mentee_profile"
    __table_args__ = (
        CheckConstraint(
            f"availability >= 0 AND availability <= {AVAILABILITY_MAX}", name="creneaux_valides"
        ),
        CheckConstraint("max_km >= 0 AND max_km <= 200", name="distance_max_valide"),
        Index("uq_numero_allocataire", "caf_number", unique=True),
        # A référent's mentees and their communes from the index alone: every caseload statement
        # starts here (the dashboard reads it four times), and reading the rows themselves, spread
        # over the table, cost more than the rest of some of those reads (migration 0029).
        Index("ix_mentee_profile_caseload", "referent_id", "user_id", "commune_code"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    referent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("commune.code_insee"))
    # Up to three target métiers (ROME v3 codes), comma-separated.
    target_metiers: Mapped[str] = mapped_column(String(20), default="")
    # The job titles the mentee picked (ROME appellations, or her own words confirmed), one a line,
    # in the order of `target_metiers`: what she is shown, the ROME label only in small print.
    target_titles: Mapped[str] = mapped_column(Text, default="", server_default="")
    # What the mentee agreed to share with their tutor, field by field.
    share_first_name: Mapped[bool] = mapped_column(Boolean, default=True)
    share_commune: Mapped[bool] = mapped_column(Boolean, default=True)
    share_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    share_email: Mapped[bool] = mapped_column(Boolean, default=False)
    share_metier: Mapped[bool] = mapped_column(Boolean, default=True)
    share_obstacles: Mapped[bool] = mapped_column(Boolean, default=False)
    # Référent-only: never shown to the mentee's tutor.
    social_note: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # For telling two people apart (duplicates), both optional: the birth date and the CAF / MSA
    # "numéro allocataire", unique when known.
    birth_date: Mapped[date | None] = mapped_column(Date)
    caf_number: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="mentee_profile", foreign_keys=[user_id])
    referent: Mapped[User] = relationship(foreign_keys=[referent_id])
    commune: Mapped[Commune | None] = relationship()

    @property
    def metier_codes(self) -> list[str]:
        return _codes(self.target_metiers)

    @property
    def metier_titles(self) -> dict[str, str]:
        """The job title picked for each code (a code saved before titles were kept: none)."""
        titles = (self.target_titles or "").split("\n")
        return {
            code: title
            for code, title in zip(self.metier_codes, titles, strict=False)
            if title.strip()
        }

    @property
    def is_complete(self) -> bool:
        return bool(self.commune_code and self.metier_codes and self.availability)


class TutorProfile(_PlaceMixin, PickedMetierMixin, Base):
    __tablename__ = "tutor_profile"
    __table_args__ = (
        CheckConstraint(
            f"availability >= 0 AND availability <= {AVAILABILITY_MAX}", name="creneaux_valides"
        ),
        CheckConstraint("max_km >= 0 AND max_km <= 200", name="distance_max_valide"),
        CheckConstraint("capacity >= 1 AND capacity <= 3", name="capacite_1_a_3"),
        # The last guard against overbooking: a place is taken by each live binôme.
        CheckConstraint(
            "places_used >= 0 AND places_used <= capacity", name="places_dans_capacite"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("commune.code_insee"))
    metier_code: Mapped[str | None] = mapped_column(ForeignKey("rome_metier.code"))
    # The job title the tutor picked (a ROME appellation): what they and others are shown.
    metier_title: Mapped[str] = mapped_column(String(300), default="", server_default="")
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    places_used: Mapped[int] = mapped_column(Integer, default=0)
    experience_note: Mapped[str] = mapped_column(Text, default="")
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rest_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The tutor's own pause: not proposed before this day (a holiday, a busy season).
    unavailable_until: Mapped[date | None] = mapped_column(Date)
    # The charter's version the tutor accepted online (services/charter.py); a new one asks again.
    charter_version: Mapped[int | None] = mapped_column(Integer)
    charter_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tutor_profile")
    commune: Mapped[Commune | None] = relationship()
    metier: Mapped[RomeMetier | None] = relationship()

    @property
    def places_left(self) -> int:
        return self.capacity - self.places_used

    @property
    def is_complete(self) -> bool:
        return bool(self.commune_code and self.metier_code and self.availability)


__all__ = ["ROLE_LABELS", "MenteeProfile", "Role", "TutorProfile", "User"]
