"""Column helpers shared by the models."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy import DateTime, String, TypeDecorator

E = TypeVar("E", bound=enum.StrEnum)


def utcnow() -> datetime:
    """Now, timezone-aware UTC (used as a *callable* default)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EnumText(TypeDecorator, Generic[E]):
    """A column holding a `StrEnum`: stored as the member's value (a VARCHAR), read back as the member.

    Writing a value the enum does not know raises before the database sees it; the named check
    constraint beside each such column (`in_check`) says the same to the database.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class
        self.length = length

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return self.enum_class(value)

    @property
    def python_type(self) -> type[E]:
        return self.enum_class


def in_check(column: str, members: Iterable[enum.StrEnum]) -> str:
    """`column IN ('a', 'b')` for check constraints and partial indexes, in the enum's order."""
    chosen = frozenset(members)
    ordered = [m for m in type(next(iter(chosen))) if m in chosen] if chosen else []
    quoted = ", ".join(f"'{m.value}'" for m in ordered)
    return f"{column} IN ({quoted})"
