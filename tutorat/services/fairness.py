"""Fairness audit: who waits longer for a tutor (small communes, far from a town, no car, no email, an obstacle,
a canton). The admin sees the whole département; a référent their own caseload. Figures by `matching.fairness`.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import case, func, select

from matching.fairness import Demande, GroupRow, audit, largest_gaps, nearest_town_km
from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    Commune,
    MenteeProfile,
    Pair,
    PairOutcome,
    PairStatus,
    TutoringRequest,
    User,
)
from tutorat.services.indicators.export import Column, Percent, Table

SIZE = "Taille de la commune"
TOWN = "Distance à une ville de 2 000 habitants ou plus"
CAR = "Voiture"
EMAIL = "Adresse électronique"
OBSTACLE = "Difficulté déclarée"
CANTON = "Canton"
DIMENSIONS = (SIZE, TOWN, CAR, EMAIL, OBSTACLE, CANTON)
POSITIVE = [o for o in vocab.OUTCOMES if o not in vocab.FAILED_OUTCOMES]


def _size(population: int) -> str:
    if population < 200:
        return "1. moins de 200 habitants"
    if population < 500:
        return "2. de 200 à 499 habitants"
    if population < 2000:
        return "3. de 500 à 1 999 habitants"
    return "4. 2 000 habitants ou plus"


def _town(km: float) -> str:
    if math.isnan(km):  # no town at all
        return "inconnue"
    if km == 0:
        return "1. dans la ville même"
    if km < 10:
        return "2. moins de 10 km"
    if km < 20:
        return "3. de 10 à 19 km"
    return "4. 20 km ou plus"


# Distance from each commune to the nearest town: reference data, computed once per process (458 × 18 distances).
_TOWN_KM: dict[str, dict[str, float]] = {}
_TOWN_LOCK = threading.Lock()


def _town_km() -> dict[str, float]:
    key = str(db.engine.url)
    found = _TOWN_KM.get(key)
    if found is None:
        rows = db.session.execute(
            select(Commune.code_insee, Commune.latitude, Commune.longitude, Commune.population)
        ).all()
        dist = nearest_town_km([r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])
        found = {r[0]: float(d) for r, d in zip(rows, np.asarray(dist), strict=True)}
        with _TOWN_LOCK:
            _TOWN_KM[key] = found
    return found


# A binôme ended well when one of its outcomes is positive ("stopped" is never combined with another).
_POSITIVE = (
    select(PairOutcome.pair_id)
    .where(PairOutcome.pair_id == Pair.id, PairOutcome.outcome.in_(POSITIVE))
    .correlate(Pair)
    .exists()
)
_PAIR_FIGURES = (
    select(
        Pair.request_id.label("request_id"),
        func.min(Pair.proposed_at).label("first_proposal"),
        func.min(Pair.confirmed_at).label("first_active"),
        func.count().label("proposals"),
        func.sum(case((Pair.status == PairStatus.DECLINED, 1), else_=0)).label("declined"),
        func.sum(case((Pair.status == PairStatus.EXPIRED, 1), else_=0)).label("expired"),
        func.sum(case((Pair.status == PairStatus.ENDED, 1), else_=0)).label("ended"),
        func.sum(case(((Pair.status == PairStatus.ENDED) & _POSITIVE, 1), else_=0)).label(
            "positive"
        ),
    )
    .group_by(Pair.request_id)
    .subquery()
)


def _demandes_stmt(referent_id: int | None):
    p = _PAIR_FIGURES
    stmt = (
        select(
            TutoringRequest.created_at,
            MenteeProfile.has_car,
            User.email,
            MenteeProfile.obstacles,
            Commune.code_insee,
            Commune.population,
            Commune.canton_nom,
            p.c.first_proposal,
            p.c.first_active,
            p.c.proposals,
            p.c.declined,
            p.c.expired,
            p.c.ended,
            p.c.positive,
        )
        .join(MenteeProfile, MenteeProfile.user_id == TutoringRequest.mentee_id)
        .join(User, User.id == TutoringRequest.mentee_id)
        .outerjoin(Commune, Commune.code_insee == MenteeProfile.commune_code)
        .outerjoin(p, p.c.request_id == TutoringRequest.id)
    )
    if referent_id is not None:
        stmt = stmt.where(MenteeProfile.referent_id == referent_id)
    return stmt


def _days(later: datetime | None, earlier: datetime) -> float | None:
    if later is None:
        return None
    if later.tzinfo is None:
        later = later.replace(tzinfo=UTC)
    return max((later - earlier).total_seconds() / 86400, 0.0)


@dataclass(frozen=True)
class FairnessReport:
    whole: GroupRow
    rows: list[GroupRow]
    gaps: list[str]
    whole_department: bool

    def by_dimension(self) -> list[tuple[str, list[GroupRow]]]:
        return [(d, [r for r in self.rows if r.dimension == d]) for d in DIMENSIONS]

    def table(self) -> Table:
        """Every row, as the CSV export: counts, shares in %, their 95 % intervals, medians in days."""

        def pct(x: float | None) -> Percent | None:
            return None if x is None else Percent(round(100 * x, 1))

        rows = []
        for r in [self.whole, *self.rows]:
            small = r.too_small
            rows.append(
                (
                    r.dimension,
                    r.group.split(". ", 1)[-1],
                    "moins de 5" if small else r.demandes,
                    pct(r.within_30.value),
                    pct(r.within_30.low),
                    pct(r.within_30.high),
                    pct(r.within_60.value),
                    pct(r.within_60.low),
                    pct(r.within_60.high),
                    r.ratio("within_60", self.whole),
                    r.median_to_proposal.value,
                    r.median_to_active.value,
                    pct(r.declined.value),
                    pct(r.expired.value),
                    pct(r.positive.value),
                    r.positive.n,
                )
            )
        cols = (
            Column("Critère", numeric=False),
            Column("Groupe", numeric=False),
            Column("Demandes"),
            Column("Proposition en 30 jours (%)"),
            Column("IC 95 % bas"),
            Column("IC 95 % haut"),
            Column("Proposition en 60 jours (%)"),
            Column("IC 95 % bas"),
            Column("IC 95 % haut"),
            Column("Rapport à l'ensemble (60 jours)"),
            Column("Médiane jusqu'à une proposition (jours)"),
            Column("Médiane jusqu'au binôme actif (jours)"),
            Column("Propositions refusées (%)"),
            Column("Propositions expirées (%)"),
            Column("Binômes terminés avec un résultat positif (%)"),
            Column("Binômes terminés"),
        )
        return Table("equite", "Qui attend plus longtemps ?", cols, rows)


def report(*, referent_id: int | None = None, now: datetime | None = None) -> FairnessReport:
    """The audit over every demande (of `referent_id`'s caseload, or the whole département)."""
    now = now or datetime.now(UTC)
    town_km = _town_km()
    demandes = []
    for (
        created,
        has_car,
        email,
        obstacles,
        code,
        population,
        canton,
        first_proposal,
        first_active,
        proposals,
        declined,
        expired,
        ended,
        positive,
    ) in db.session.execute(_demandes_stmt(referent_id)):
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        groups = [
            (CAR, "Avec voiture" if has_car else "Sans voiture"),
            (EMAIL, "Avec adresse électronique" if email else "Sans adresse électronique"),
        ]
        if code is not None:
            groups += [
                (SIZE, _size(population)),
                (TOWN, _town(town_km.get(code, float("nan")))),
                (CANTON, canton),
            ]
        for obstacle in (o for o in (obstacles or "").split(",") if o):
            groups.append((OBSTACLE, vocab.OBSTACLES.get(obstacle, obstacle)))
        demandes.append(
            Demande(
                groups=tuple(groups),
                age_days=_days(now, created) or 0.0,
                days_to_proposal=_days(first_proposal, created),
                days_to_active=_days(first_active, created),
                proposals=int(proposals or 0),
                declined=int(declined or 0),
                expired=int(expired or 0),
                ended=int(ended or 0),
                positive=int(positive or 0),
            )
        )
    whole, rows = audit(demandes, DIMENSIONS)
    return FairnessReport(whole, rows, largest_gaps(whole, rows), referent_id is None)
