"""Suggestions: turn profiles into plain values, ask `matching` for ranked tutors and their reasons."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

import matching
from tutorat.extensions import db
from tutorat.models import Commune, MenteeProfile, Request, Setting, TutorProfile, User
from tutorat.services.errors import Conflict, DomainError

ALGORITHM_VERSION = "1"


def current_weights() -> matching.Weights:
    setting = db.session.get(Setting, "weights")
    if setting and isinstance(setting.value, dict):
        try:
            return matching.Weights.from_dict(setting.value)
        except (ValueError, TypeError, KeyError):
            pass
    return matching.Weights()


def _timestamp(value: datetime | None) -> float | None:
    return value.timestamp() if value else None


def mentee_values(profile: MenteeProfile, commune: Commune) -> matching.Mentee:
    return matching.Mentee(
        id=profile.user_id,
        lat=commune.latitude,
        lon=commune.longitude,
        sectors=tuple(profile.metier_codes),
        availability=profile.availability,
        max_km=float(profile.max_km),
        has_car=profile.has_car,
        remote_ok=profile.remote_ok,
        obstacles=frozenset(profile.obstacle_codes),
    )


def tutor_values(profile: TutorProfile, commune: Commune) -> matching.Tutor:
    return matching.Tutor(
        id=profile.user_id,
        lat=commune.latitude,
        lon=commune.longitude,
        sectors=(profile.metier_code,) if profile.metier_code else (),
        availability=profile.availability,
        max_km=float(profile.max_km),
        has_car=profile.has_car,
        remote_ok=profile.remote_ok,
        obstacles=frozenset(profile.obstacle_codes),
        capacity=max(profile.capacity - profile.places_used, 0),
        last_asked=_timestamp(profile.last_asked_at),
    )


def available_tutors_stmt(exclude_user_id: int | None = None):
    """Tutors who may be proposed now: active, validated, complete, with a place, not resting."""
    now = datetime.now(UTC)
    stmt = (
        select(TutorProfile, Commune)
        .join(User, User.id == TutorProfile.user_id)
        .join(Commune, Commune.code_insee == TutorProfile.commune_code)
        .where(
            User.active.is_(True),
            TutorProfile.validated_at.is_not(None),
            TutorProfile.metier_code.is_not(None),
            TutorProfile.availability > 0,
            TutorProfile.places_used < TutorProfile.capacity,
            or_(TutorProfile.rest_until.is_(None), TutorProfile.rest_until <= now),
        )
        .order_by(TutorProfile.user_id)
    )
    if exclude_user_id is not None:
        stmt = stmt.where(TutorProfile.user_id != exclude_user_id)
    return stmt


@dataclass
class Candidate:
    rank: int
    tutor: User
    profile: TutorProfile
    commune: Commune
    explanation: Any  # matching.Explanation
    meeting_place: str

    @property
    def score(self) -> float:
        return float(self.explanation.score)

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def _mentee_for(request: Request) -> tuple[MenteeProfile, Commune]:
    profile = db.session.get(MenteeProfile, request.mentee_id)
    if profile is None or not profile.is_complete or profile.commune is None:
        raise DomainError(
            "Le profil de ce bénéficiaire est incomplet (commune, métier visé et disponibilités) : "
            "complétez-le pour voir les tuteurs proposés."
        )
    return profile, profile.commune


def candidates_for(request: Request, k: int | None = None) -> tuple[list[Candidate], int]:
    """The k best feasible tutors for `request`, best first, and how many were feasible in all."""
    k = k or current_app.config["CANDIDATES_SHOWN"]
    profile, commune = _mentee_for(request)
    rows = db.session.execute(available_tutors_stmt(exclude_user_id=request.mentee_id)).all()
    if not rows:
        return [], 0
    weights = current_weights()
    mentee = mentee_values(profile, commune)
    tutors = [tutor_values(tp, c) for tp, c in rows]
    scores = matching.score_matrix([mentee], tutors, weights)[0]
    feasible = int((~_isnan(scores)).sum())
    top = matching.top_candidates(mentee, tutors, k=k, weights=weights)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([tutors[i].id for i, _ in top])))}
    out = []
    for rank, (index, _score) in enumerate(top, start=1):
        tp, c = rows[index]
        explanation = matching.explain(mentee, tutors[index], weights)
        out.append(Candidate(rank, users[tp.user_id], tp, c, explanation, meeting_place(commune, c)))
    return out, feasible


def _isnan(values):
    import numpy as np

    return np.isnan(values)


def explain_pair(request: Request, tutor_id: int) -> tuple[Any, TutorProfile, Commune]:
    """The explanation for proposing tutor `tutor_id` on `request`; DomainError if not available."""
    profile, commune = _mentee_for(request)
    row = db.session.execute(
        available_tutors_stmt(exclude_user_id=request.mentee_id).where(TutorProfile.user_id == tutor_id)
    ).first()
    if row is None:
        raise Conflict("Ce tuteur n'est pas disponible : plus de place, pas encore validé ou en repos.")
    tp, c = row
    explanation = matching.explain(mentee_values(profile, commune), tutor_values(tp, c), current_weights())
    if not explanation.feasible:
        raise DomainError(
            "Ce tuteur ne peut pas être proposé : " + " ".join(explanation.infeasible_reasons)
        )
    return explanation, tp, c


_COMMUNES: list[tuple[str, float, float, int]] = []


def meeting_place(a: Commune, b: Commune) -> str:
    """A place both can reach: the most populated commune lying between the two."""
    if a.code_insee == b.code_insee:
        return a.nom
    if not _COMMUNES:
        _COMMUNES.extend(
            db.session.execute(select(Commune.nom, Commune.latitude, Commune.longitude, Commune.population)).all()
        )
    d_ab = matching.haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)
    best = max((a, b), key=lambda c: c.population)
    best_name, best_pop = best.nom, best.population
    for name, lat, lon, pop in _COMMUNES:
        if pop <= best_pop:
            continue
        if (matching.haversine_km(lat, lon, a.latitude, a.longitude) <= d_ab
                and matching.haversine_km(lat, lon, b.latitude, b.longitude) <= d_ab):
            best_name, best_pop = name, pop
    return best_name


def explanation_dict(explanation) -> dict[str, Any]:
    data = explanation.to_dict()
    # JSON has no NaN: store an infeasible score as null.
    if isinstance(data.get("score"), float) and math.isnan(data["score"]):
        data["score"] = None
    return data
