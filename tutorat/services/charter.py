"""The tutors' charter: its versions live in the app (templates/charter/v<N>.html); a new one asks again."""

from __future__ import annotations

from datetime import date

# Version -> the day it took effect. Publishing a new text: add templates/charter/v<N+1>.html and
# its line here; every tutor is then asked to accept it again (their home page says so), and an
# application in progress needs the new acceptance before validation.
VERSIONS: dict[int, date] = {1: date(2026, 12, 1)}
CURRENT_VERSION = max(VERSIONS)


def template(version: int = CURRENT_VERSION) -> str:
    """The text of a version (a LookupError for a version that never existed)."""
    if version not in VERSIONS:
        raise LookupError(f"charte : version {version} inconnue")
    return f"charter/v{version}.html"


def is_current(version: int | None) -> bool:
    return version == CURRENT_VERSION
