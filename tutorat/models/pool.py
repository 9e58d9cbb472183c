"""The tutors' pool version: one row that database triggers change on every write the pool can see."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tutorat.extensions import Base

# The tables `services.suggestions` reads to build its per-worker tutors' pool. Migration 0006
# puts an INSERT/UPDATE/DELETE trigger on each (tests/tutorat/test_pool_refresh.py checks the
# list against the pool's own query), so no write — ORM, raw SQL, another program — is missed.
POOL_TABLES = ("commune", "tutor_profile", "user_account")


class PoolVersion(Base):
    """One row (id 1): a new random token after every write to `POOL_TABLES`, in that write's transaction.

    A random token rather than a counter: a transaction rolled back after building a pool from its
    own writes leaves a label that no committed state will ever carry again.
    """

    __tablename__ = "pool_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(40), nullable=False)
