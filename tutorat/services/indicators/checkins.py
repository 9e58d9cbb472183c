"""« Comment se passe le tutorat ? » in the indicators: how many questions were asked in the period,
how many were answered (on the person's page, or by phone and recorded by the référent), the shares
of Bien / Moyen / Pas bien among the answers, and those missed (still unanswered a week after they
were asked, as the référent's alert counts them). For the mentees and the tutors apart, then
together.

One grouped query whatever the number of binômes; no names, only counts. The admin sees the whole
département; a référent, the binômes of the mentees they follow (as the rest of the indicators).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from tutorat.extensions import db
from tutorat.models import CheckIn, CheckInAnswer, MenteeProfile, Pair
from tutorat.services.indicators.export import Column, Percent, Table
from tutorat.services.indicators.report import Period

KEY = "points"
TITLE = "« Comment se passe le tutorat ? » : réponses"
# A question unanswered a week after it was asked is missed (followup.reported_pair's week).
MISSED_AFTER = timedelta(days=7)
SIDES = (("mentee", "Bénéficiaires"), ("tutor", "Tuteurs"))
COLUMNS = (
    Column("Qui répond", numeric=False),
    Column("Questions posées"),
    Column("Réponses"),
    Column("Taux de réponse"),
    Column("Bien (part des réponses)"),
    Column("Moyen (part des réponses)"),
    Column("Pas bien (part des réponses)"),
    Column("Sans réponse après 7 jours"),
    Column("Réponses données par téléphone, notées par le référent"),
)


def _count(condition):
    return func.count(case((condition, 1)))


def _share(part: int, whole: int) -> Percent | None:
    return Percent(round(100 * part / whole, 1)) if whole else None


def check_in_rates(period: Period, *, referent_id: int | None, now: datetime) -> Table:
    """The table of the indicators' page and its CSV export (questions asked in `period`)."""
    start, end = period.bounds
    side = case((CheckIn.person_id == Pair.mentee_id, "mentee"), else_="tutor").label("side")
    stmt = (
        select(
            side,
            func.count().label("asked"),
            _count(CheckIn.answer.is_not(None)).label("answered"),
            _count(CheckIn.answer == CheckInAnswer.GOOD).label("good"),
            _count(CheckIn.answer == CheckInAnswer.AVERAGE).label("average"),
            _count(CheckIn.answer == CheckInAnswer.BAD).label("bad"),
            _count(CheckIn.answer.is_(None) & (CheckIn.asked_at <= now - MISSED_AFTER)).label(
                "missed"
            ),
            _count(CheckIn.recorded_by_id.is_not(None)).label("by_phone"),
        )
        .select_from(CheckIn)
        .join(Pair, Pair.id == CheckIn.pair_id)
        .where(CheckIn.asked_at >= start, CheckIn.asked_at < end)
        .group_by(side)
    )
    if referent_id is not None:
        stmt = stmt.join(MenteeProfile, MenteeProfile.user_id == Pair.mentee_id).where(
            MenteeProfile.referent_id == referent_id
        )
    found = {row.side: row for row in db.session.execute(stmt)}
    figures = {
        key: tuple(
            getattr(found[key], name) if key in found else 0
            for name in ("asked", "answered", "good", "average", "bad", "missed", "by_phone")
        )
        for key, _ in SIDES
    }
    total = tuple(sum(values) for values in zip(*figures.values(), strict=True))
    rows = []
    for label, (asked, answered, good, average, bad, missed, by_phone) in [
        *((label, figures[key]) for key, label in SIDES),
        ("Ensemble", total),
    ]:
        rows.append(
            (
                label,
                asked,
                answered,
                _share(answered, asked),
                _share(good, answered),
                _share(average, answered),
                _share(bad, answered),
                missed,
                by_phone,
            )
        )
    return Table(
        KEY,
        TITLE,
        COLUMNS,
        rows,
        note=(
            "Questions posées pendant la période, après la première rencontre puis tous les 30 "
            "jours, à chaque personne d'un binôme actif. Les parts de Bien, Moyen et Pas bien "
            "sont calculées sur les réponses reçues."
        ),
    )
