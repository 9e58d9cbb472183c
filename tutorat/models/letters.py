"""Letters: every notice for a person reached by post, queued for their référent to print and send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat.extensions import Base
from tutorat.models._types import EnumText, UTCDateTime, in_check, utcnow
from tutorat.models.outbox import MessageStatus
from tutorat.models.users import User

# Letters share the outbox's statuses: pending = « à envoyer », sent = posted by the référent,
# failed = the PDF could not be made (the admin sees it), cancelled = the person was erased.
letter_person = Table(
    "letter_person",
    Base.metadata,
    Column("letter_id", ForeignKey("letter.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_letter_person_user", "user_id"),
)


class Letter(Base):
    __tablename__ = "letter"
    __table_args__ = (CheckConstraint(in_check("status", MessageStatus), name="statut_connu"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # Printed on the letter and quoted by the person on the phone.
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # Who prints and posts it (the person's référent, or the binôme's).
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))  # the name, as on the envelope
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")  # unused; erasure blanks it as others
    status: Mapped[MessageStatus] = mapped_column(
        EnumText(MessageStatus, 10), default=MessageStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient_user: Mapped[User] = relationship(foreign_keys=[recipient_id])
    referent: Mapped[User | None] = relationship(foreign_keys=[referent_id])
    people: Mapped[list[LetterPerson]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class LetterPerson(Base):
    """One person a letter names (mapped on `letter_person`)."""

    __table__ = letter_person

    letter_id: Mapped[int]
    user_id: Mapped[int]


__all__ = ["Letter", "LetterPerson", "letter_person"]
