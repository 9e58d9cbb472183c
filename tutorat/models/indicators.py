"""The indicators' monthly summary: counts per référent and month that database triggers keep."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tutorat.extensions import Base


class IndicatorMonth(Base):
    """What the indicators page counts, per référent of the mentee (0: none), month and (kind, item).

    Written only by the triggers of migration 0026, in the transaction of each write to the tables
    the counts read (tutoring_request, status_event, pair, meeting, pair_outcome, mentee_profile):
    every writer keeps it exact. The kinds and items are listed in that migration;
    services/indicators/queries.py sums the months of a period.
    """

    __tablename__ = "indicator_month"
    # The counts read with their keys, without a lookup in the table (migration 0028).
    __table_args__ = (
        Index("ix_indicator_month_counts", "referent_id", "month", "kind", "item", "n"),
    )

    referent_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    item: Mapped[str] = mapped_column(String(60), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False)


class IndicatorMonthPending(Base):
    """PostgreSQL's triggers of migration 0026 note here, during one statement, the demandes and
    binômes whose contributions they subtracted, to add them back once at the statement's end
    (empty between statements; unused on SQLite, whose AFTER triggers run row by row)."""

    __tablename__ = "indicator_month_pending"

    tag: Mapped[str] = mapped_column(String(20), primary_key=True)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
