"""Domain errors: each carries a French message meant for the user."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the action; `message` is shown to the user as is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(DomainError):
    """The action conflicts with the current state (someone else acted first, capacity reached…)."""
