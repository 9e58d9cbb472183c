"""The indicators' tables as the page shows them and as CSV exports: French numbers, no formulas."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass


class Percent(float):
    """A percentage (0–100): shown with a % sign, exported as a plain number."""


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = True


@dataclass(frozen=True)
class Table:
    """A table of the page, also exported as CSV: French headers, typed cells, no names of people."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple]
    note: str = ""

    def display_rows(self) -> list[list[str | None]]:
        return [[display(v) for v in row] for row in self.rows]

    def csv_bytes(self) -> bytes:
        """`;`-separated, UTF-8 with a BOM: what French spreadsheets open without trouble."""
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow([c.label for c in self.columns])
        for row in self.rows:
            writer.writerow([csv_value(v) for v in row])
        return out.getvalue().encode("utf-8")


def _decimal(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def display(value) -> str | None:
    """A cell as the page shows it (None: no figure)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, Percent):
        return f"{_decimal(value).removesuffix(',0')}\u00a0%"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    if isinstance(value, float):
        return _decimal(value)
    return str(value)


def csv_value(value) -> str:
    """A cell as exported: numbers with a decimal comma, no unit; text guarded against formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _decimal(value)
    text = str(value)
    # A cell starting with = + - @ is run as a formula by spreadsheets.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
