"""Suggestions: turn profiles into plain values, ask `matching` for ranked tutors and their reasons.

The available tutors' matching arrays (a `matching.TutorIndex`) are built once per worker and
kept under the `pool_version` token that database triggers change on every write to the tables
they come from (see `_POOLS` below: the application's one in-process cache). So a candidate list
costs a handful of queries whatever the number of tutors, and every worker ranks from the same
committed data.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import joinedload

import matching
from tutorat.extensions import db
from tutorat.models import (
    AccessAction,
    Commune,
    MenteeProfile,
    PoolVersion,
    Setting,
    TutoringRequest,
    TutorProfile,
    User,
)
from tutorat.services import audit
from tutorat.services.errors import Conflict, DomainError

ALGORITHM_VERSION = "1"


def _weights_from(value: Any) -> matching.Weights:
    if isinstance(value, dict):
        try:
            return matching.Weights.from_dict(value)
        except (ValueError, TypeError, KeyError):
            pass
    return matching.Weights()


def current_weights() -> matching.Weights:
    setting = db.session.get(Setting, "weights")
    return _weights_from(setting.value if setting else None)


HISTORY_KEY = "weights_history"
DEFAULT_HOW = "Poids par défaut, fixés à la conception de Tutorat (voir « Les poids par défaut, et pourquoi »)."
MANUAL_HOW = "Réglés à la main par l'administration (page « Poids du classement »)."


@dataclass(frozen=True)
class WeightsVersion:
    """One version of the weights: what they were, when and by whom adopted, and how they were chosen."""

    number: int
    weights: dict[str, float]
    adopted_at: datetime | None
    adopted_by: str
    how: str


def weights_versions() -> list[WeightsVersion]:
    """Every version of the weights, oldest first; version 0 is the default one."""
    setting = db.session.get(Setting, HISTORY_KEY)
    history = setting.value if setting is not None and isinstance(setting.value, list) else []
    versions = [WeightsVersion(0, matching.Weights().to_dict(), None, "", DEFAULT_HOW)]
    for number, entry in enumerate(history, start=1):
        at = entry.get("at") if isinstance(entry, dict) else None
        entry = entry if isinstance(entry, dict) else {}
        versions.append(
            WeightsVersion(
                number,
                dict(entry.get("weights") or {}),
                datetime.fromisoformat(at) if at else None,
                str(entry.get("by") or ""),
                str(entry.get("how") or ""),
            )
        )
    return versions


def set_weights(
    values: dict[str, float],
    *,
    actor: User,
    how: str = MANUAL_HOW,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> WeightsVersion:
    """The administration sets the weights of the score for the next rankings; the caller commits.

    Each change is a new numbered version, kept with who adopted it and how it was chosen (published
    on /algorithme). Each proposal keeps the weights it was made with (CRPA): nothing already
    proposed changes. With `expected_version`, a version adopted meanwhile by someone else is a
    `Conflict` (the admin decided on figures that are no longer current).
    """
    try:
        matching.Weights(**values)
    except (ValueError, TypeError) as error:
        raise DomainError(f"Poids refusés : {error}") from None
    history_row = db.session.get(Setting, HISTORY_KEY, with_for_update=True)
    history = (
        list(history_row.value)
        if history_row is not None and isinstance(history_row.value, list)
        else []
    )
    if expected_version is not None and expected_version != len(history):
        raise Conflict(
            "Les poids ont été changés pendant que vous lisiez cette page (version "
            f"{len(history)} au lieu de {expected_version}). Relisez la page avant de décider."
        )
    now = now or datetime.now(UTC)
    history.append(
        {"weights": dict(values), "at": now.isoformat(), "by": actor.full_name, "how": how}
    )
    if history_row is None:
        db.session.add(Setting(key=HISTORY_KEY, value=history, updated_by_id=actor.id))
    else:
        history_row.value, history_row.updated_by_id = history, actor.id
    setting = db.session.get(Setting, "weights")
    if setting is None:
        db.session.add(Setting(key="weights", value=values, updated_by_id=actor.id))
    else:
        setting.value, setting.updated_by_id = values, actor.id
    audit.note(AccessAction.MODIFY, target="admin.weights", actor=actor)
    return WeightsVersion(len(history), dict(values), now, actor.full_name, how)


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


# Who may be proposed, rest period apart: active, validated, complete, with a free place.
_CAN_TUTOR = (
    User.active.is_(True),
    TutorProfile.validated_at.is_not(None),
    TutorProfile.metier_code.is_not(None),
    TutorProfile.availability > 0,
    TutorProfile.places_used < TutorProfile.capacity,
)


def available_tutors_stmt(exclude_user_id: int | None = None):
    """Tutors who may be proposed now: active, validated, complete, with a place, not resting."""
    now = datetime.now(UTC)
    stmt = (
        select(TutorProfile, Commune)
        .join(User, User.id == TutorProfile.user_id)
        .join(Commune, Commune.code_insee == TutorProfile.commune_code)
        .where(
            *_CAN_TUTOR,
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


def _mentee_for(request: TutoringRequest) -> tuple[MenteeProfile, Commune]:
    profile = db.session.get(MenteeProfile, request.mentee_id)
    if profile is None or not profile.is_complete or profile.commune is None:
        raise DomainError(
            "Le profil de ce bénéficiaire est incomplet (commune, métier visé et disponibilités) : "
            "complétez-le pour voir les tuteurs proposés."
        )
    return profile, profile.commune


@dataclass
class _CommuneArrays:
    names: list[str]
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray


@dataclass(frozen=True)
class TutorPool:
    """The available tutors as `matching` values, in index order, with their index."""

    ids: list[int]
    values: list[matching.Tutor]
    index: matching.TutorIndex | None  # None when no tutor is available
    position: dict[int, int]
    # A resting tutor becomes available when their rest ends, without any write: rebuild then.
    valid_until: datetime | None
    # Ranked lists already computed from this pool: (mentee values, weights, k) → (top, feasible).
    # Pure functions of their key and of the pool, so they live and die with it.
    ranked: dict = field(default_factory=dict, compare=False, repr=False)
    # The communes' arrays (for meeting places), read the first time one is needed, and the
    # places already found: they too live and die with the pool (commune is one of POOL_TABLES).
    communes: list[_CommuneArrays] = field(default_factory=list, compare=False, repr=False)
    places: dict[tuple[str, str], str] = field(default_factory=dict, compare=False, repr=False)


_RANKED_MAX = 2048
_PLACES_MAX = 50_000

# THE ONE IN-PROCESS CACHE OF THE APPLICATION (STYLE.md, "No copies of rendered pages").
# Where: here, per worker and per database URL → (pool_version token, pool).
# Why: building the tutors' matching arrays and their index reads every available tutor and
# costs tens of milliseconds at Gers scale, on every demande page; with the pool kept, the
# ranking costs one small query for the token (bench/README.md, "Pages web").
# Refresh rule, deny by default: the token lives in the `pool_version` row, which triggers in the
# database (migration 0006) change on every INSERT/UPDATE/DELETE of each table the pool reads
# (tutorat.models.pool.POOL_TABLES: tutors' profiles, accounts, communes), whoever writes —
# ORM, raw SQL, a script, another worker. The token is read once per ranking, before the tutors,
# so a kept pool is never labelled newer than its data; a table added to the pool's query without
# its triggers fails tests/tutorat/test_pool_refresh.py.
_POOLS: dict[str, tuple[str, TutorPool]] = {}
_POOLS_LOCK = threading.Lock()


def _build_pool(now: datetime) -> TutorPool:
    stmt = (
        select(
            TutorProfile.user_id,
            TutorProfile.metier_code,
            TutorProfile.availability,
            TutorProfile.max_km,
            TutorProfile.has_car,
            TutorProfile.remote_ok,
            TutorProfile.obstacles,
            TutorProfile.capacity,
            TutorProfile.places_used,
            TutorProfile.last_asked_at,
            TutorProfile.rest_until,
            Commune.latitude,
            Commune.longitude,
        )
        .join(User, User.id == TutorProfile.user_id)
        .join(Commune, Commune.code_insee == TutorProfile.commune_code)
        .where(*_CAN_TUTOR)  # resting tutors are set aside below, to know when the pool expires
        .order_by(TutorProfile.user_id)
    )
    ids: list[int] = []
    values: list[matching.Tutor] = []
    valid_until: datetime | None = None
    for (
        uid,
        metier,
        availability,
        max_km,
        has_car,
        remote_ok,
        obstacles,
        capacity,
        used,
        last_asked,
        rest_until,
        lat,
        lon,
    ) in db.session.execute(stmt):
        if rest_until is not None and rest_until > now:
            valid_until = rest_until if valid_until is None else min(valid_until, rest_until)
            continue
        ids.append(uid)
        values.append(
            matching.Tutor(
                id=uid,
                lat=lat,
                lon=lon,
                sectors=(metier,) if metier else (),
                availability=availability,
                max_km=float(max_km),
                has_car=has_car,
                remote_ok=remote_ok,
                obstacles=frozenset(c for c in (obstacles or "").split(",") if c),
                capacity=max(capacity - used, 0),
                last_asked=_timestamp(last_asked),
            )
        )
    index = matching.TutorIndex(values) if values else None
    return TutorPool(ids, values, index, {uid: i for i, uid in enumerate(ids)}, valid_until)


# The statements a demande page runs, built once (building one and its cache key costs more than
# running it: bench/README.md, "Pages web").
_TOKEN_AND_WEIGHTS = select(
    select(PoolVersion.token).where(PoolVersion.id == 1).scalar_subquery().label("token"),
    select(Setting.value).where(Setting.key == "weights").scalar_subquery().label("weights"),
)
_CANDIDATE_ROWS = (
    select(TutorProfile, User, Commune)
    .join(User, User.id == TutorProfile.user_id)
    .join(Commune, Commune.code_insee == TutorProfile.commune_code)
    .options(joinedload(TutorProfile.metier))
    .where(TutorProfile.user_id.in_(bindparam("ids", expanding=True)))
)


def _pool_token_and_weights() -> tuple[str | None, Any]:
    """The pool's version token and the scoring weights, in one query."""
    row = db.session.execute(_TOKEN_AND_WEIGHTS).one()
    return row.token, row.weights


def _tutor_pool(token: str | None, now: datetime) -> TutorPool:
    """The available tutors now: this worker's pool if it carries the database's current token."""
    key = str(db.engine.url)
    if token is not None:  # no token row: nothing to check a kept pool against, so none is kept
        cached = _POOLS.get(key)
        if cached is not None and cached[0] == token:
            pool = cached[1]
            if pool.valid_until is None or now < pool.valid_until:
                return pool
    pool = _build_pool(now)
    if token is not None:
        with _POOLS_LOCK:
            _POOLS[key] = (token, pool)
    return pool


def tutor_pool(now: datetime | None = None) -> TutorPool:
    """The tutors who may be proposed now, as `matching` values with their index (for batch mode)."""
    token, _weights = _pool_token_and_weights()
    return _tutor_pool(token, now or datetime.now(UTC))


def _ranking(request: TutoringRequest, k: int | None):
    """The pool, the mentee's values and `request`'s ranked list (computed if new)."""
    k = k or current_app.config["CANDIDATES_SHOWN"]
    profile, commune = _mentee_for(request)
    now = datetime.now(UTC)
    # The token is read before the tutors, so a kept pool is never labelled newer than its data.
    token, weights_value = _pool_token_and_weights()
    weights = _weights_from(weights_value)
    pool = _tutor_pool(token, now)
    if pool.index is None:
        return pool, commune, None
    mentee = mentee_values(profile, commune)
    key = (mentee, weights, k)
    ranked = pool.ranked.get(key)
    if ranked is None:
        ranked = _rank(pool, mentee, weights, k, request.mentee_id)
        with _POOLS_LOCK:
            if len(pool.ranked) >= _RANKED_MAX:
                pool.ranked.clear()
            pool.ranked[key] = ranked
    return pool, commune, ranked


def _candidates(pool: TutorPool, commune: Commune, ranked) -> tuple[list[Candidate], int]:
    top, feasible, explanations = ranked
    if not top:
        return [], feasible
    rows = db.session.execute(_CANDIDATE_ROWS, {"ids": [pool.ids[i] for i, _ in top]}).all()
    by_id = {tp.user_id: (tp, user, c) for tp, user, c in rows}
    out: list[Candidate] = []
    for (index, _score), explanation in zip(top, explanations, strict=True):
        found = by_id.get(pool.ids[index])
        if found is None:  # removed since the token was read
            continue
        tp, user, c = found
        out.append(
            Candidate(len(out) + 1, user, tp, c, explanation, _meeting_place(pool, commune, c))
        )
    return out, feasible


def candidates_for(request: TutoringRequest, k: int | None = None) -> tuple[list[Candidate], int]:
    """The k best feasible tutors for `request`, best first, and how many were feasible in all."""
    pool, commune, ranked = _ranking(request, k)
    if ranked is None:
        return [], 0
    return _candidates(pool, commune, ranked)


def shown_candidates(request: TutoringRequest) -> list[dict[str, Any]]:
    """The ranked list the référent sees for `request` (tutor, rank, parts of the score), as a proposal keeps it.

    Read from the same cached ranking as the page (no query): what the référent chose from.
    """
    pool, _commune, ranked = _ranking(request, None)
    if ranked is None:
        return []
    top, _feasible, explanations = ranked
    return [
        {
            "tutor_id": pool.ids[index],
            "rank": rank,
            "parts": {
                name: float(detail.value)
                for name, detail in explanation.parts.items()
                if name in matching.Weights.PARTS
            },
        }
        for rank, ((index, _score), explanation) in enumerate(
            zip(top, explanations, strict=True), start=1
        )
    ]


def _rank(
    pool: TutorPool, mentee: matching.Mentee, weights: matching.Weights, k: int, mentee_id: int
):
    """The k best tutors of the pool for `mentee`, how many are feasible, and each one's explanation."""
    assert pool.index is not None
    excluded = pool.position.get(mentee_id)
    columns = pool.index.candidate_columns(mentee)
    feasible_mask = ~np.isnan(pool.index.scores(mentee, columns, weights))
    if excluded is not None:
        feasible_mask &= columns != excluded
    top = pool.index.top_candidates(mentee, k=k + (excluded is not None), weights=weights)
    top = [(i, score) for i, score in top if i != excluded][:k]
    explanations = [matching.explain(mentee, pool.values[i], weights) for i, _ in top]
    return top, int(feasible_mask.sum()), explanations


def explain_pair(request: TutoringRequest, tutor_id: int) -> tuple[Any, Commune, Commune]:
    """The explanation for proposing tutor `tutor_id` on `request`, the mentee's commune and the
    tutor's; DomainError if not available."""
    profile, commune = _mentee_for(request)
    row = db.session.execute(
        available_tutors_stmt(exclude_user_id=request.mentee_id).where(
            TutorProfile.user_id == tutor_id
        )
    ).first()
    if row is None:
        raise Conflict(
            "Ce tuteur n'est pas disponible : plus de place, pas encore validé ou en repos."
        )
    tp, c = row
    explanation = matching.explain(
        mentee_values(profile, commune), tutor_values(tp, c), current_weights()
    )
    if not explanation.feasible:
        raise DomainError(
            "Ce tuteur ne peut pas être proposé : " + " ".join(explanation.infeasible_reasons)
        )
    return explanation, commune, c


def _commune_arrays(pool: TutorPool) -> _CommuneArrays:
    if not pool.communes:
        rows = db.session.execute(
            select(Commune.nom, Commune.latitude, Commune.longitude, Commune.population).order_by(
                Commune.code_insee
            )
        ).all()
        arrays = _CommuneArrays(
            [r[0] for r in rows],
            np.array([r[1] for r in rows], dtype=np.float64),
            np.array([r[2] for r in rows], dtype=np.float64),
            np.array([r[3] for r in rows], dtype=np.int64),
        )
        with _POOLS_LOCK:
            if not pool.communes:
                pool.communes.append(arrays)
    return pool.communes[0]


def meeting_place(a: Commune, b: Commune) -> str:
    """A place both can reach: the most populated commune lying between the two."""
    if a.code_insee == b.code_insee:
        return a.nom
    return _meeting_place(tutor_pool(), a, b)


def _meeting_place(pool: TutorPool, a: Commune, b: Commune) -> str:
    if a.code_insee == b.code_insee:
        return a.nom
    key = (a.code_insee, b.code_insee)
    place = pool.places.get(key)
    if place is None:
        place = _place_between(_commune_arrays(pool), a, b)
        with _POOLS_LOCK:
            if len(pool.places) >= _PLACES_MAX:
                pool.places.clear()
            pool.places[key] = place
    return place


def _place_between(communes: _CommuneArrays, a: Commune, b: Commune) -> str:
    d_ab = matching.haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)
    best = max((a, b), key=lambda c: c.population)
    # Communes closer to each of the two than they are to each other, more populated than both.
    between = (
        (communes.population > best.population)
        & (matching.haversine_km(communes.lat, communes.lon, a.latitude, a.longitude) <= d_ab)
        & (matching.haversine_km(communes.lat, communes.lon, b.latitude, b.longitude) <= d_ab)
    )
    if not between.any():
        return best.nom
    return communes.names[int(np.argmax(np.where(between, communes.population, -1)))]


def explanation_dict(explanation) -> dict[str, Any]:
    data = explanation.to_dict()
    # JSON has no NaN: store an infeasible score as null.
    if isinstance(data.get("score"), float) and math.isnan(data["score"]):
        data["score"] = None
    return data


def rank_of(request: TutoringRequest, tutor_id: int) -> tuple[int | None, int]:
    """Where tutor `tutor_id` stands among the feasible tutors for `request` (1 = best), and how
    many are feasible: what a proposal records, without explaining the whole list."""
    profile, commune = _mentee_for(request)
    pool = tutor_pool()
    if pool.index is None:
        return None, 0
    excluded = pool.position.get(request.mentee_id)
    ranked = pool.index.top_candidates(
        mentee_values(profile, commune), k=len(pool.ids), weights=current_weights()
    )
    order = [pool.ids[i] for i, _ in ranked if i != excluded]
    return (order.index(tutor_id) + 1 if tutor_id in order else None), len(order)
