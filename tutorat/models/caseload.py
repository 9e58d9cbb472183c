"""Caseloads: files of beneficiaries imported from a spreadsheet, and the history of référent changes."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat.extensions import Base
from tutorat.models._types import UTCDateTime, utcnow
from tutorat.models.users import User


class ImportRowStatus(enum.StrEnum):
    """What importing a row of a file does (the preview shows it before anything is written)."""

    CREATE = "create"
    EXISTS = "exists"
    ERROR = "error"

    @property
    def label(self) -> str:
        return IMPORT_ROW_STATUS_LABELS[self]


IMPORT_ROW_STATUS_LABELS = {
    ImportRowStatus.CREATE: "Sera créée",
    ImportRowStatus.EXISTS: "Déjà suivie",
    ImportRowStatus.ERROR: "Erreur",
}


class CaseloadStatus(enum.StrEnum):
    """Where a beneficiary stands, for the caseload lists (computed, never stored)."""

    NO_PROFILE = "no_profile"
    NO_REQUEST = "no_request"
    WAITING = "waiting"
    IN_PAIR = "in_pair"
    ENDED = "ended"

    @property
    def label(self) -> str:
        return CASELOAD_STATUS_LABELS[self]


CASELOAD_STATUS_LABELS = {
    CaseloadStatus.NO_PROFILE: "Profil à compléter",
    CaseloadStatus.NO_REQUEST: "Sans demande",
    CaseloadStatus.WAITING: "Demande en cours",
    CaseloadStatus.IN_PAIR: "En binôme",
    CaseloadStatus.ENDED: "Binôme terminé",
}


class BeneficiaryImport(Base):
    """A file uploaded for import: kept between the preview and the import, then for its report.

    The file holds personal data: `flask purge` deletes it after IMPORT_RETENTION_DAYS.
    """

    __tablename__ = "beneficiary_import"
    __table_args__ = (
        CheckConstraint("row_count >= 0", name="nombre_de_lignes_positif"),
        Index("ix_beneficiary_import_uploaded_by", "uploaded_by_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # The référent of every row (None: an admin's file names each row's référent in a column).
    referent_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE")
    )
    filename: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_count: Mapped[int | None] = mapped_column(Integer)

    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])
    referent: Mapped[User | None] = relationship(foreign_keys=[referent_id])


class ReferentChange(Base):
    """A beneficiary moved from one référent to another: who did it, when, from whom, to whom, why."""

    __tablename__ = "referent_change"
    __table_args__ = (
        CheckConstraint("from_referent_id <> to_referent_id", name="transfert_vers_un_autre"),
        Index("ix_referent_change_mentee", "mentee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    from_referent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    to_referent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")

    from_referent: Mapped[User] = relationship(foreign_keys=[from_referent_id])
    to_referent: Mapped[User] = relationship(foreign_keys=[to_referent_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
