"""The access log: who saw or changed a beneficiary's record, logins, denials — never social content."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat.extensions import Base
from tutorat.models._types import UTCDateTime, utcnow
from tutorat.models.users import User


class AccessAction(enum.StrEnum):
    """What an access-log line records."""

    VIEW = "view"
    MODIFY = "modify"
    EXPORT = "export"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    DENIED = "denied"
    ANONYMISATION = "anonymisation"
    ERASURE_REQUEST = "erasure_request"
    DEACTIVATION = "deactivation"
    IMPORT = "import"
    TRANSFER = "transfer"

    @property
    def label(self) -> str:
        return ACCESS_ACTION_LABELS[self]


ACCESS_ACTION_LABELS: dict[str, str] = {
    AccessAction.VIEW: "consultation",
    AccessAction.MODIFY: "modification",
    AccessAction.EXPORT: "export de vos données",
    AccessAction.LOGIN: "connexion",
    AccessAction.LOGIN_FAILED: "connexion refusée",
    AccessAction.DENIED: "accès refusé",
    AccessAction.ANONYMISATION: "anonymisation",
    AccessAction.ERASURE_REQUEST: "demande d'effacement",
    AccessAction.DEACTIVATION: "désactivation du compte",
    AccessAction.IMPORT: "import de bénéficiaires",
    AccessAction.TRANSFER: "changement de référent",
}


class AccessLog(Base):
    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_at", "at"), Index("ix_access_log_subject", "subject_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None for an anonymous visitor (a failed login, a denial before login).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(10), default="")
    # What happened: an `AccessAction` (a plain string column: the log keeps any line it was given).
    action: Mapped[str] = mapped_column(String(30))
    # The page or object, without content: an endpoint name and ids.
    target: Mapped[str] = mapped_column(String(120), default="")
    # The beneficiary whose record was concerned, if any.
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    ip: Mapped[str] = mapped_column(String(45), default="")
    status: Mapped[int | None] = mapped_column()

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id])
