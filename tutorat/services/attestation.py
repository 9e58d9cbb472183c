"""The tutor's « attestation de bénévolat » at the end of a binôme (a PDF, like the letters).

It counts the meetings the tutor logged **and the person confirmed**: a meeting logged but not
confirmed (or contested) is not attested, and the attestation says how many were left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import case, func, select

from tutorat.extensions import db
from tutorat.models import Meeting, Pair, PairStatus
from tutorat.services.errors import Conflict
from tutorat.services.letters import html_to_pdf, letterhead_data_uri

CONFIRMED = "confirmed"


@dataclass(frozen=True)
class AttestationFigures:
    """What the attestation states: the confirmed meetings and their time, and the others."""

    confirmed_meetings: int
    confirmed_minutes: int
    other_meetings: int

    @property
    def hours_text(self) -> str:
        """« 7 h 30 », « 45 min », « 0 h »."""
        hours, minutes = divmod(self.confirmed_minutes, 60)
        if hours and minutes:
            return f"{hours} h {minutes:02d}"
        if minutes:
            return f"{minutes} min"
        return f"{hours} h"


def figures(pair: Pair) -> AttestationFigures:
    """The binôme's meetings, counted in one query."""
    confirmed = Meeting.mentee_confirmation == CONFIRMED
    row = db.session.execute(
        select(
            func.count(case((confirmed, 1))),
            func.coalesce(func.sum(case((confirmed, Meeting.duration_minutes), else_=0)), 0),
            func.count(Meeting.id),
        ).where(Meeting.pair_id == pair.id)
    ).one()
    return AttestationFigures(
        confirmed_meetings=int(row[0]),
        confirmed_minutes=int(row[1]),
        other_meetings=int(row[2]) - int(row[0]),
    )


def available(pair: Pair) -> bool:
    """An attestation is given once the binôme has ended (it has a period to attest)."""
    return pair.status == PairStatus.ENDED and pair.confirmed_at is not None


def attestation_pdf(pair: Pair, *, now: datetime | None = None) -> bytes:
    """The attestation of the tutor of `pair` (the caller checked who may download it)."""
    if not available(pair):
        raise Conflict("L'attestation de bénévolat se télécharge une fois le binôme terminé.")
    template = current_app.jinja_env.get_template("letters/attestation.html")
    html = template.render(
        pair=pair,
        tutor=pair.tutor,
        figures=figures(pair),
        signatory=current_app.config["ATTESTATION_SIGNATORY"],
        letterhead=letterhead_data_uri(),
        printed_on=now or datetime.now(UTC),
        request=None,
    )
    return html_to_pdf(html)


__all__ = ["AttestationFigures", "attestation_pdf", "available", "figures"]
