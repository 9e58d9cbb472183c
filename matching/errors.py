"""The one error the matching library raises for bad input: a `ValueError`, in plain French."""

from __future__ import annotations

__all__ = ["MatchingInputError"]


class MatchingInputError(ValueError):
    """An input the library refuses (a capacity outside 0–3, a weight outside [0, 1], k < 1…).

    Its message is French, written to be shown as it is to the person who typed the value: the
    application catches it and answers 400 (or 409) with it, never a 500.
    """
