"""Emails written in the same transaction as the change that causes them, sent after commit."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat.extensions import Base
from tutorat.models._types import EnumText, UTCDateTime, in_check, utcnow


class MessageStatus(enum.StrEnum):
    """Where a message of an outbox stands (emails today; SMS and letters would share it)."""

    PENDING = "pending"  # waiting for the sender
    SENDING = "sending"  # claimed by one sender (a short lease), about to leave
    SENT = "sent"
    FAILED = "failed"  # given up after MAIL_MAX_ATTEMPTS; the admin may send it again
    CANCELLED = "cancelled"  # a person it names was erased: never sent

    @property
    def label(self) -> str:
        return MESSAGE_STATUS_LABELS[self]


MESSAGE_STATUS_LABELS = {
    MessageStatus.PENDING: "en attente d'envoi",
    MessageStatus.SENDING: "en cours d'envoi",
    MessageStatus.SENT: "envoyé",
    MessageStatus.FAILED: "envoi impossible",
    MessageStatus.CANCELLED: "annulé",
}
# Messages that may still leave, hence that an erasure cancels.
UNSENT_STATUSES = frozenset({MessageStatus.PENDING, MessageStatus.SENDING})
# Messages that will not leave any more, hence that `flask purge` deletes once old.
FINISHED_STATUSES = frozenset({MessageStatus.SENT, MessageStatus.CANCELLED, MessageStatus.FAILED})

# Every person an email is addressed to or names (the mentee in the référent's email about
# them), so that erasing a person finds every message about them, not only those to them.
outbox_email_person = Table(
    "outbox_email_person",
    Base.metadata,
    Column(
        "email_id",
        ForeignKey("outbox_email.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "user_id",
        ForeignKey("user_account.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index("ix_outbox_email_person_user", "user_id"),
)


class OutboxEmail(Base):
    __tablename__ = "outbox_email"
    __table_args__ = (CheckConstraint(in_check("status", MessageStatus), name="statut_connu"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Stable across retries, so a resent message is recognised as the same one.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[MessageStatus] = mapped_column(
        EnumText(MessageStatus, 10), default=MessageStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a person it named was erased: recipient, subject and bodies were replaced.
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # One-click unsubscribe address (RFC 8058), sent as List-Unsubscribe; empty for security emails.
    unsubscribe_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # Written by the same flush as the email, so the ORM batches many emails and their links into
    # a few INSERTs (a batch command queues hundreds) instead of a flush per email.
    people: Mapped[list[OutboxEmailPerson]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class OutboxEmailPerson(Base):
    """One person an email names (mapped on `outbox_email_person`)."""

    __table__ = outbox_email_person

    # Typed for mypy; the columns are the table's.
    email_id: Mapped[int]
    user_id: Mapped[int]


# The SMS outbox: same statuses, same worker, same guarantees as the emails (services/sms.py).
outbox_sms_person = Table(
    "outbox_sms_person",
    Base.metadata,
    Column("sms_id", ForeignKey("outbox_sms.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_outbox_sms_person_user", "user_id"),
)


class OutboxSms(Base):
    __tablename__ = "outbox_sms"
    __table_args__ = (CheckConstraint(in_check("status", MessageStatus), name="statut_connu"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))  # the mobile number, E.164
    subject: Mapped[str] = mapped_column(String(200))  # the kind's subject, for the admin's list
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")  # unused; erasure blanks it as others
    status: Mapped[MessageStatus] = mapped_column(
        EnumText(MessageStatus, 10), default=MessageStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The provider's id of the message once accepted.
    provider_ref: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    people: Mapped[list[OutboxSmsPerson]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class OutboxSmsPerson(Base):
    """One person an SMS names (mapped on `outbox_sms_person`)."""

    __table__ = outbox_sms_person

    sms_id: Mapped[int]
    user_id: Mapped[int]


__all__ = [
    "FINISHED_STATUSES",
    "MESSAGE_STATUS_LABELS",
    "UNSENT_STATUSES",
    "MessageStatus",
    "OutboxEmail",
    "OutboxEmailPerson",
    "OutboxSms",
    "OutboxSmsPerson",
    "outbox_email_person",
    "outbox_sms_person",
]
