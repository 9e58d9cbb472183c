"""The mentee's goals for her binôme (one to three), in her words or from a list."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tutorat import vocab
from tutorat.extensions import Base
from tutorat.models._types import EnumText, UTCDateTime, in_check, utcnow
from tutorat.models.users import User

MAX_GOALS = 3


class GoalStatus(enum.StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    REACHED = "reached"

    @property
    def label(self) -> str:
        return vocab.GOAL_STATUSES[self.value]


class Goal(Base):
    __tablename__ = "goal"
    __table_args__ = (
        CheckConstraint(in_check("status", GoalStatus), name="objectif_etat_connu"),
        CheckConstraint("length(text) > 0", name="objectif_non_vide"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"), index=True)
    # The list's code when picked from vocab.GOALS; `text` is what is shown (her words, or the label).
    code: Mapped[str | None] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(String(200))
    status: Mapped[GoalStatus] = mapped_column(EnumText(GoalStatus, 12), default=GoalStatus.TODO)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    @property
    def status_label(self) -> str:
        return self.status.label
