"""The health probe's row: /sante writes it to prove the database takes writes, not only reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from tutorat.extensions import Base
from tutorat.models._types import UTCDateTime, utcnow


class HealthCheck(Base):
    """One row (id 1), rewritten by each probe; nothing else reads it."""

    __tablename__ = "health_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
