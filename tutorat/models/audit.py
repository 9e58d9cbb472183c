"""The status history: every change of a demande or binôme (who, when, from, to, why)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat.extensions import Base
from tutorat.models._types import EnumText, UTCDateTime, in_check, utcnow
from tutorat.models.users import User


class EventEntity(enum.StrEnum):
    """What a status event is about."""

    REQUEST = "request"
    PAIR = "pair"


class StatusEvent(Base):
    __tablename__ = "status_event"
    __table_args__ = (
        CheckConstraint(in_check("entity", EventEntity), name="entite_connue"),
        # The entity's events, and when it first reached a status (the indicators' delays: a
        # covering index, min(at) read from the index alone).
        Index("ix_status_event_entity_status", "entity", "entity_id", "to_status", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[EventEntity] = mapped_column(EnumText(EventEntity, 10))
    entity_id: Mapped[int] = mapped_column()
    # None = the system (a scheduled command), not a person.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Set when a référent acted for a mentee (who has no email, for instance).
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])
