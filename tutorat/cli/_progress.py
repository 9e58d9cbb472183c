"""Progress bars the commands show (click), passed to services as plain callbacks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click


def progressbar(rows: Iterable[Any], label: str) -> Any:
    """A bar over `rows`, labelled at a fixed width so that successive bars line up."""
    return click.progressbar(rows, label=label.ljust(28), show_pos=True)


class StageBar:
    """`progress(stage, done, total)` shown as one click progress bar per stage."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.done = stage, 0
            self.bar = click.progressbar(
                length=max(total, 1), label=stage.capitalize().ljust(16), show_pos=True
            )
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


__all__ = ["StageBar", "progressbar"]
