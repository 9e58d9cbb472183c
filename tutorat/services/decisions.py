"""« Ce que montrent les décisions » : what référents' choices and binômes' outcomes say about the weights.

Read from the proposals (each keeps the parts of its score and, since migration 0013, the ranked list the référent
chose from) and the ended binômes; learned by `matching.learning`; shown to the admin, who alone may adopt a
suggestion as a new version of the weights (`adopt`), which `/algorithme` then publishes with how it was chosen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

import matching
from matching.learning import (
    ChoiceFit,
    Decision,
    SuccessFit,
    fit_choices,
    fit_success,
    suggest_weights,
)
from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    Commune,
    MenteeProfile,
    Pair,
    PairOutcome,
    PairStatus,
    TutoringRequest,
    TutoringRequestStatus,
    User,
)
from tutorat.services import batch, suggestions
from tutorat.services.errors import DomainError

PARTS = matching.Weights.PARTS
POSITIVE_OUTCOMES = frozenset(vocab.OUTCOMES) - frozenset(vocab.FAILED_OUTCOMES)
SMALL_COMMUNE = 500  # inhabitants: the simulation's "petites communes"

# One outcome code per binôme is enough here: "stopped" is never combined with another, so any of
# a binôme's outcomes tells whether it succeeded.
_ONE_OUTCOME = (
    select(func.min(PairOutcome.outcome))
    .where(PairOutcome.pair_id == Pair.id)
    .correlate(Pair)
    .scalar_subquery()
)
_PAIRS = select(
    Pair.tutor_id, Pair.status, _ONE_OUTCOME, Pair.explanation, Pair.shown_candidates
).order_by(Pair.id)


def _parts(values: Any) -> tuple[float, ...] | None:
    """The parts of one candidate, in `PARTS` order, or None when something is missing."""
    if not isinstance(values, dict):
        return None
    try:
        row = tuple(float(values[p]) for p in PARTS)
    except (KeyError, TypeError, ValueError):
        return None
    return row if all(math.isfinite(v) for v in row) else None


def _explanation_parts(explanation: Any) -> tuple[float, ...] | None:
    parts = explanation.get("parts") if isinstance(explanation, dict) else None
    if not isinstance(parts, dict):
        return None
    return _parts(
        {p: (parts.get(p) or {}).get("value") for p in PARTS if isinstance(parts.get(p), dict)}
    )


@dataclass(frozen=True)
class Learned:
    decisions: list[Decision]
    outcome_parts: list[tuple[float, ...]]
    outcome_positive: list[bool]


def learning_data(*, after_pair_id: int = 0) -> Learned:
    """Référents' decisions (chosen vs the others shown) and ended binômes' parts and outcomes
    (of the binômes numbered above `after_pair_id`: all by default)."""
    decisions: list[Decision] = []
    parts_rows: list[tuple[float, ...]] = []
    positive: list[bool] = []
    stmt = _PAIRS.where(Pair.id > after_pair_id) if after_pair_id else _PAIRS
    for tutor_id, status, outcome, explanation, shown in db.session.execute(stmt):
        chosen = _explanation_parts(explanation)
        if chosen is None:
            continue
        if shown:
            others = tuple(
                row
                for c in shown
                if isinstance(c, dict) and c.get("tutor_id") != tutor_id
                for row in [_parts(c.get("parts"))]
                if row is not None
            )
            decisions.append(Decision(chosen, others))
        if status == PairStatus.ENDED and outcome in vocab.OUTCOMES:
            parts_rows.append(chosen)
            positive.append(outcome in POSITIVE_OUTCOMES)
        elif status == PairStatus.DECLINED:
            parts_rows.append(chosen)
            positive.append(False)
    return Learned(decisions, parts_rows, positive)


@dataclass(frozen=True)
class Outcome:
    """What one set of weights would do to today's open demandes (batch assignment, nothing written)."""

    weights: dict[str, float]
    open_requests: int
    matched: int
    mean_km: float | None
    mean_score: float | None
    groups: dict[str, tuple[int, int]]  # group label → (matched, open demandes in the group)
    optimality: str = ""  # « optimum prouvé », or the gap left at most (batch.Plan.optimality)


@dataclass(frozen=True)
class Report:
    choice: ChoiceFit
    success: SuccessFit
    official: dict[str, float]
    version: suggestions.WeightsVersion
    suggestion: dict[str, float] | None
    current_outcome: Outcome | None
    suggested_outcome: Outcome | None

    @property
    def has_data(self) -> bool:
        return self.choice.decisions > 0 or self.success.outcomes > 0


_OPEN_MENTEES = (
    select(MenteeProfile.user_id, MenteeProfile.has_car, User.email, Commune.population)
    .join(TutoringRequest, TutoringRequest.mentee_id == MenteeProfile.user_id)
    .join(User, User.id == MenteeProfile.user_id)
    .outerjoin(Commune, Commune.code_insee == MenteeProfile.commune_code)
    .where(TutoringRequest.status == TutoringRequestStatus.OPEN, User.active.is_(True))
)


def simulate(weights: matching.Weights) -> Outcome:
    """Re-run batch assignment over today's open demandes with `weights` and sum up its effect."""
    plan = batch.plan(weights=weights)
    coords = dict(
        (code, (lat, lon))
        for code, lat, lon in db.session.execute(
            select(Commune.code_insee, Commune.latitude, Commune.longitude)
        )
    )
    km = [
        matching.haversine_km(*coords[p.mentee_commune], *coords[p.tutor_commune])
        for p in plan.proposals
        if p.mentee_commune in coords and p.tutor_commune in coords
    ]
    matched_ids = {p.mentee_id for p in plan.proposals}
    groups: dict[str, list[int]] = {
        "Sans voiture": [0, 0],
        "Sans adresse électronique": [0, 0],
        f"Commune de moins de {SMALL_COMMUNE} habitants": [0, 0],
    }
    for user_id, has_car, email, population in db.session.execute(_OPEN_MENTEES):
        member = {
            "Sans voiture": not has_car,
            "Sans adresse électronique": not email,
            f"Commune de moins de {SMALL_COMMUNE} habitants": population is not None
            and population < SMALL_COMMUNE,
        }
        for label, inside in member.items():
            if inside:
                groups[label][1] += 1
                groups[label][0] += user_id in matched_ids
    return Outcome(
        weights=weights.to_dict(),
        open_requests=plan.open_requests,
        matched=plan.matched,
        mean_km=sum(km) / len(km) if km else None,
        mean_score=plan.total_score / plan.matched if plan.matched else None,
        groups={label: (m, n) for label, (m, n) in groups.items()},
        optimality=plan.optimality,
    )


def report(*, simulate_suggestion: bool = True) -> Report:
    """Everything « Ce que montrent les décisions » shows (reads only)."""
    data = learning_data()
    choice = fit_choices(data.decisions)
    success = fit_success(data.outcome_parts, data.outcome_positive)
    official = suggestions.current_weights()
    suggested = suggest_weights(choice)
    current_outcome = suggested_outcome = None
    if suggested is not None and simulate_suggestion:
        current_outcome = simulate(official)
        suggested_outcome = simulate(suggested)
    total = official.total
    return Report(
        choice=choice,
        success=success,
        official={p: getattr(official, p) / total for p in PARTS},
        version=suggestions.weights_versions()[-1],
        suggestion=suggested.to_dict() if suggested is not None else None,
        current_outcome=current_outcome,
        suggested_outcome=suggested_outcome,
    )


def adopt(
    values: dict[str, float], *, expected_version: int, actor: User
) -> suggestions.WeightsVersion:
    """The admin adopts the suggested weights as a new version; the caller commits.

    The version records how they were chosen (published on /algorithme). 409 when the weights changed
    since the page was read.
    """
    if not actor.is_admin:
        raise DomainError("Seule l'administration peut adopter de nouveaux poids.")
    fit = fit_choices(learning_data().decisions)
    how = (
        "Adoptés par l'administration d'après « Ce que montrent les décisions » : les poids que les "
        f"référents appliquent en pratique, estimés sur {fit.decisions} propositions "
        f"({fit.comparisons} comparaisons entre le tuteur choisi et les autres tuteurs montrés), "
        "arrondis à 5 points, après simulation de leur effet sur les demandes ouvertes."
    )
    return suggestions.set_weights(values, actor=actor, how=how, expected_version=expected_version)
