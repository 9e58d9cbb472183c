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
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
from flask import current_app
from sqlalchemy import bindparam, or_, select

import matching
from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    AccessAction,
    Commune,
    MenteeProfile,
    Pair,
    PairAnswer,
    PairStatus,
    PoolVersion,
    Setting,
    TutoringRequest,
    TutorProfile,
    User,
)
from tutorat.models.pairs import UNANSWERED_PAIR_STATUSES
from tutorat.services import audit, profiles, reference
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


MIN_SCORE_KEY = "min_score"


def _min_score_from(value: Any) -> float | None:
    try:
        return matching.check_min_score(value) if value is not None else None
    except ValueError:
        return None


def current_min_score() -> float | None:
    """The minimum score under which no tutor is ranked nor paired (None: no minimum)."""
    setting = db.session.get(Setting, MIN_SCORE_KEY)
    return _min_score_from(setting.value if setting else None)


def set_min_score(value: float | None, *, actor: User) -> None:
    """The administration sets (or removes, with None) the minimum score; the caller commits.

    Under it, a tutor is neither ranked for a demande nor paired by batch matching, not even to
    match one more person: left out « Note sous le minimum fixé ». 0 or None: no minimum."""
    try:
        value = matching.check_min_score(value)
    except ValueError as error:
        raise DomainError(str(error), field="min_score") from None
    value = value or None
    setting = db.session.get(Setting, MIN_SCORE_KEY)
    if setting is None:
        db.session.add(Setting(key=MIN_SCORE_KEY, value=value, updated_by_id=actor.id))
    else:
        setting.value, setting.updated_by_id = value, actor.id
    audit.note(AccessAction.MODIFY, target="admin.min_score", actor=actor)


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
            or_(
                TutorProfile.unavailable_until.is_(None),
                TutorProfile.unavailable_until < profiles.local_today(now),
            ),
        )
        .order_by(TutorProfile.user_id)
    )
    if exclude_user_id is not None:
        stmt = stmt.where(TutorProfile.user_id != exclude_user_id)
    return stmt


@dataclass(frozen=True)
class CandidateTutor:
    """A ranked tutor's name (a plain row, not the account: a demande page shows ten)."""

    id: int
    first_name: str
    last_name: str
    email: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Place(Protocol):
    """A commune as the meeting place needs it (a `Commune` or a row of the same columns)."""

    code_insee: str
    nom: str
    latitude: float
    longitude: float
    population: int


@dataclass(frozen=True, slots=True)
class RowText:
    """A ranked tutor's explanation as the demande page prints it, in plain text: formatted once,
    with the ranked list it belongs to (kept with the pool, and gone with it), not at each page."""

    reasons: tuple[str, ...]  # matching's sentences, their ROME codes named
    points: str  # « Distance 87/100, Métier 100/100, … »
    distance_km: str  # « 12,3 »
    limit: str  # « (à distance) » or « (≤ 30 km) »
    metier: str  # the shared ROME level, or « Aucun point commun »
    common_slots: int | str  # how many common moments, or « aucun »


def _percent(value: float) -> int:
    return int(round(value * 100, 0))  # as Jinja's `round|int` did


def row_text(explanation) -> RowText:
    """`explanation` (a `matching.Explanation`) as the demande page's table prints it."""
    level = explanation.rome_level
    return RowText(
        tuple(reference.with_rome_labels(reason) for reason in explanation.reasons),
        ", ".join(
            f"{part.label} {_percent(part.value)}/100" for part in explanation.parts.values()
        ),
        f"{explanation.distance_km:.1f}".replace(".", ","),
        "(à distance)" if explanation.remote else f"(≤ {int(round(explanation.limit_km, 0))} km)",
        vocab.ROME_LEVELS.get(level, "Aucun point commun") if level else "Aucun point commun",
        len(explanation.common_slot_labels) or "aucun",
    )


@dataclass
class Candidate:
    rank: int
    tutor: CandidateTutor
    commune: Place
    places_left: int
    capacity: int
    explanation: Any  # matching.Explanation
    meeting_place: str
    text: RowText
    score: float = field(init=False)
    percent: int = field(init=False)  # read several times by each row of the page

    def __post_init__(self) -> None:
        self.score = float(self.explanation.score)
        self.percent = round(self.score * 100)


def _mentee_for(
    request: TutoringRequest, known: dict[str, str] | None = None
) -> tuple[MenteeProfile, Commune]:
    """The mentee's profile and commune, checked for ranking. `known`: the ROME labels of the
    profile's codes (`reference.rome_code_labels`), when the caller read them already."""
    profile = db.session.get(MenteeProfile, request.mentee_id)
    return checked_mentee(profile, profile.commune if profile is not None else None, known)


def checked_mentee(profile: Any, commune: Any, known: dict[str, str] | None = None) -> tuple:
    """`profile` and `commune` if a ranking can be made for them, else the DomainError that says
    what to complete. `profile`: a `MenteeProfile`, or a row of its columns with its properties
    (`metier_codes`, `obstacle_codes`, `is_complete`); `commune`: a `Commune` or a row (latitude,
    longitude)."""
    if profile is None or not profile.is_complete or commune is None:
        raise DomainError(
            "Le profil de ce bénéficiaire est incomplet (commune, métier visé et disponibilités) : "
            "complétez-le pour voir les tuteurs proposés."
        )
    unknown = reference.unknown_rome_codes(profile.metier_codes, known)
    if unknown:
        raise DomainError(
            "Le métier visé de ce bénéficiaire porte un code inconnu du répertoire ROME ("
            + ", ".join(unknown)
            + ") : choisissez de nouveau son métier visé dans son profil pour voir les tuteurs "
            "proposés."
        )
    return profile, commune


@dataclass
class _CommuneArrays:
    names: list[str]
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray


@dataclass
class _Roster:
    """Every tutor with a commune, as `matching` values (places left as capacity), and their state."""

    ids: list[int]
    roster: matching.Roster
    position: dict[int, int]
    communes: list[str]
    rest_until: list[datetime | None]
    validated: list[bool]
    complete: list[bool]
    # « Indisponible jusqu'au » (a day the tutor typed), kept out of the pool until it ends.
    paused_until: list[date | None]
    # The same facts as arrays, for a ranking's holds without a loop over every tutor.
    rest_ts: np.ndarray = field(init=False)
    paused_ts: np.ndarray = field(init=False)
    not_validated: np.ndarray = field(init=False)
    incomplete: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.rest_ts = np.array(
            [u.timestamp() if u is not None else -np.inf for u in self.rest_until],
            dtype=np.float64,
        )
        ends = [profiles.unavailable_end(day) for day in self.paused_until]
        self.paused_ts = np.array(
            [end.timestamp() if end is not None else -np.inf for end in ends], dtype=np.float64
        )
        self.not_validated = np.flatnonzero(~np.array(self.validated, dtype=np.bool_))
        self.incomplete = np.flatnonzero(~np.array(self.complete, dtype=np.bool_))


@dataclass(frozen=True, slots=True)
class PoolPlace:
    """A pool tutor's commune, as the meeting place and the demande page need it (a `Place`)."""

    code_insee: str
    nom: str
    latitude: float
    longitude: float
    population: int


@dataclass(frozen=True)
class TutorPool:
    """The available tutors as `matching` values, in index order, with their index."""

    ids: list[int]
    values: list[matching.Tutor]
    index: matching.TutorIndex | None  # None when no tutor is available
    position: dict[int, int]
    # A resting tutor becomes available when their rest ends, without any write: rebuild then.
    valid_until: datetime | None
    # What a demande page shows of each tutor, in index order: name, commune, places used and
    # capacity. Read with the tutors, from the same tables (their triggers change the token), so a
    # ranked list needs no query for its names.
    people: list[tuple[CandidateTutor, PoolPlace, int, int]] = field(
        default_factory=list, compare=False, repr=False
    )
    # Ranked lists already computed from this pool: (mentee values, weights, k) → (top, feasible).
    # Pure functions of their key and of the pool, so they live and die with it.
    ranked: dict = field(default_factory=dict, compare=False, repr=False)
    # The communes' arrays (for meeting places), read the first time one is needed, and the
    # places already found: they too live and die with the pool (commune is one of POOL_TABLES).
    communes: list[_CommuneArrays] = field(default_factory=list, compare=False, repr=False)
    places: dict[tuple[str, str], str] = field(default_factory=dict, compare=False, repr=False)
    # Every tutor, whatever their state (for who was left out and the diagnosis), read the first
    # time a demande page needs it; it lives and dies with the pool, whose token covers its tables.
    rosters: list[_Roster] = field(default_factory=list, compare=False, repr=False)


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
            TutorProfile.unavailable_until,
            Commune.latitude,
            Commune.longitude,
            User.first_name,
            User.last_name,
            User.email,
            Commune.code_insee,
            Commune.nom,
            Commune.population,
        )
        .join(User, User.id == TutorProfile.user_id)
        .join(Commune, Commune.code_insee == TutorProfile.commune_code)
        .where(*_CAN_TUTOR)  # resting tutors are set aside below, to know when the pool expires
        .order_by(TutorProfile.user_id)
    )
    ids: list[int] = []
    values: list[matching.Tutor] = []
    people: list[tuple[CandidateTutor, PoolPlace, int, int]] = []
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
        unavailable_until,
        lat,
        lon,
        first_name,
        last_name,
        email,
        code_insee,
        nom,
        population,
    ) in db.session.execute(stmt):
        # Resting after a binôme, or unavailable by the tutor's own choice: back when it ends.
        rest_until = max(
            (t for t in (rest_until, profiles.unavailable_end(unavailable_until)) if t is not None),
            default=None,
        )
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
        people.append(
            (
                CandidateTutor(uid, first_name, last_name, email),
                PoolPlace(code_insee, nom, lat, lon, population),
                used,
                capacity,
            )
        )
    index = matching.TutorIndex(values) if values else None
    return TutorPool(ids, values, index, {uid: i for i, uid in enumerate(ids)}, valid_until, people)


# The statements a demande page runs, built once (building one and its cache key costs more than
# running it: bench/README.md, "Pages web").
# The pool's token, the weights and the minimum score as columns: a page's own first query may
# carry them (the demande page reads them with the demande, before the pool: one query fewer).
POOL_SETTINGS = (
    select(PoolVersion.token).where(PoolVersion.id == 1).scalar_subquery().label("pool_token"),
    select(Setting.value).where(Setting.key == "weights").scalar_subquery().label("pool_weights"),
    select(Setting.value)
    .where(Setting.key == MIN_SCORE_KEY)
    .scalar_subquery()
    .label("pool_min_score"),
)
_TOKEN_AND_WEIGHTS = select(*POOL_SETTINGS)


def _read(stmt, params: dict | None = None):
    """Run a statement of plain columns on the session's connection: Core rows, no ORM loading."""
    return db.session.connection().execute(stmt, params)


def _pool_token_and_weights() -> tuple[str | None, Any]:
    """The pool's version token and the scoring weights, in one query."""
    token, weights, _min = _pool_settings()
    return token, weights


def _pool_settings() -> tuple[str | None, Any, float | None]:
    """The pool's version token, the scoring weights and the minimum score, in one query."""
    session = db.session
    # Core rows on the session's connection (no ORM work), unless ORM changes wait to be flushed:
    # their triggers change the token, so they are flushed first, as `session.execute` does.
    run = session.execute if session.new or session.dirty or session.deleted else _read
    return pool_settings_of(run(_TOKEN_AND_WEIGHTS).one())


def pool_settings_of(row) -> tuple[str | None, Any, float | None]:
    """The pool's token, the weights and the minimum score of a row with the `POOL_SETTINGS`."""
    return row.pool_token, row.pool_weights, _min_score_from(row.pool_min_score)


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


def _ranking(
    request: Any,
    k: int | None,
    declined: frozenset[int] = frozenset(),
    known: dict[str, str] | None = None,
    facts: tuple[Any, Any] | None = None,
    settings: tuple[str | None, Any, float | None] | None = None,
):
    """The pool, the mentee's commune, `request`'s ranked list (computed if new) and the
    mentee's values. `facts`: the mentee's profile and commune already read by the caller (rows
    will do, see `checked_mentee`); else they are read. `settings`: `pool_settings_of` a row
    the caller read before (carrying `POOL_SETTINGS`); else they are read.

    `declined`: the tutors who declined this demande, never ranked for it again. The ranked list
    is ``(top, feasible, explanations, below, texts)``: ``below``, the pool's tutors left out because
    their score is under the minimum the administration set (none when it set none)."""
    k = k or current_app.config["CANDIDATES_SHOWN"]
    if facts is None:
        profile, commune = _mentee_for(request, known)
    else:
        profile, commune = checked_mentee(*facts, known)
    now = datetime.now(UTC)
    # The token is read before the tutors, so a kept pool is never labelled newer than its data.
    token, weights_value, min_score = settings if settings is not None else _pool_settings()
    weights = _weights_from(weights_value)
    pool = _tutor_pool(token, now)
    mentee = mentee_values(profile, commune)
    if pool.index is None:
        return pool, commune, None, mentee
    key = (mentee, weights, k, declined, min_score)
    ranked = pool.ranked.get(key)
    if ranked is None:
        ranked = _rank(pool, mentee, weights, k, request.mentee_id, declined, min_score)
        with _POOLS_LOCK:
            if len(pool.ranked) >= _RANKED_MAX:
                pool.ranked.clear()
            pool.ranked[key] = ranked
    return pool, commune, ranked, mentee


def _candidates(pool: TutorPool, commune: Commune, ranked) -> tuple[list[Candidate], int]:
    top, feasible, explanations, _below, texts = ranked
    out: list[Candidate] = []
    # Names and places come with the pool (no query): its token covers their tables.
    for rank, ((index, _score), explanation, text) in enumerate(
        zip(top, explanations, texts, strict=True), start=1
    ):
        tutor, place, used, capacity = pool.people[index]
        out.append(
            Candidate(
                rank,
                tutor,
                place,
                capacity - used,
                capacity,
                explanation,
                # No meeting place for a pair that can only meet at a distance.
                "" if explanation.remote else _meeting_place(pool, commune, place),
                text,
            )
        )
    return out, feasible


def candidates_for(
    request: TutoringRequest, k: int | None = None, declined: frozenset[int] | None = None
) -> tuple[list[Candidate], int]:
    """The k best feasible tutors for `request`, best first, and how many were feasible in all.

    A tutor who declined this demande is never among them (`declined`, read when not given)."""
    if declined is None:
        declined = frozenset(declined_tutors(request.id))
    pool, commune, ranked, _mentee = _ranking(request, k, declined)
    if ranked is None:
        return [], 0
    return _candidates(pool, commune, ranked)


def shown_candidates(request: TutoringRequest) -> list[dict[str, Any]]:
    """The ranked list the référent sees for `request` (tutor, rank, parts of the score), as a proposal keeps it.

    Read from the same cached ranking as the page (no query): what the référent chose from.
    """
    pool, _commune, ranked, _mentee = _ranking(
        request, None, frozenset(declined_tutors(request.id))
    )
    if ranked is None:
        return []
    top, _feasible, explanations, _below, _texts = ranked
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


def _excluded(pool: TutorPool, mentee_id: int, declined: frozenset[int]) -> set[int]:
    """Positions in the pool of the mentee (a tutor too, perhaps) and of the tutors who declined."""
    ids = {mentee_id, *declined}
    return {pool.position[i] for i in ids if i in pool.position}


def _rank(
    pool: TutorPool,
    mentee: matching.Mentee,
    weights: matching.Weights,
    k: int,
    mentee_id: int,
    declined: frozenset[int] = frozenset(),
    min_score: float | None = None,
):
    """The k best tutors of the pool for `mentee`, how many are feasible, each one's explanation,
    the pool positions of the feasible tutors left out for a score under `min_score`, and each
    explanation as the demande page prints it (`RowText`, formatted here once)."""
    assert pool.index is not None
    excluded = _excluded(pool, mentee_id, declined)
    columns = pool.index.candidate_columns(mentee)
    scores = pool.index.scores(mentee, columns, weights)
    feasible_mask = ~np.isnan(scores)
    if excluded:
        feasible_mask &= ~np.isin(columns, list(excluded))
    below: tuple[int, ...] = ()
    if min_score:
        low = feasible_mask & (scores < min_score)
        below = tuple(int(i) for i in columns[low])
        feasible_mask &= ~low
    top = pool.index.top_candidates(mentee, k=k + len(excluded), weights=weights)
    top = [
        (i, score)
        for i, score in top
        if i not in excluded and (min_score is None or score >= min_score)
    ][:k]
    explanations = [matching.explain(mentee, pool.values[i], weights) for i, _ in top]
    texts = [row_text(e) for e in explanations]
    return top, int(feasible_mask.sum()), explanations, below, texts


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


def explain_outside(
    request: TutoringRequest, tutor_id: int, now: datetime
) -> tuple[Any, Commune, Commune]:
    """The explanation of a tutor chosen outside the ranking, even if distance or slots do not
    fit; Conflict/DomainError in French if capacity, rest or validation forbid the proposal."""
    profile, commune = _mentee_for(request)
    row = db.session.execute(
        select(TutorProfile, User, Commune)
        .join(User, User.id == TutorProfile.user_id)
        .join(Commune, Commune.code_insee == TutorProfile.commune_code)
        .where(TutorProfile.user_id == tutor_id)
    ).first()
    if row is None or tutor_id == request.mentee_id or not row[1].active:
        raise DomainError("Tuteur inconnu : choisissez un tuteur dans la liste des résultats.")
    tp, _user, c = row
    if tp.validated_at is None:
        raise Conflict("Ce tuteur n'est pas encore validé : il ne peut pas être proposé.")
    if not tp.is_complete:
        raise Conflict("Le profil de ce tuteur est incomplet (métier ou moments libres).")
    if tp.rest_until is not None and tp.rest_until > now:
        raise Conflict(
            f"Ce tuteur est en repos jusqu'au {tp.rest_until.astimezone(PARIS):%d/%m/%Y} "
            "après son dernier binôme : il ne peut pas être proposé avant."
        )
    if tp.places_used >= tp.capacity:
        raise Conflict("Ce tuteur n'a plus de place disponible. Choisissez un autre tuteur.")
    explanation = matching.explain(
        mentee_values(profile, commune), tutor_values(tp, c), current_weights()
    )
    return explanation, commune, c


_SEARCH = (
    select(
        User.id,
        User.first_name,
        User.last_name,
        Commune.nom,
        TutorProfile.capacity,
        TutorProfile.places_used,
        TutorProfile.rest_until,
    )
    .join(TutorProfile, TutorProfile.user_id == User.id)
    .join(Commune, Commune.code_insee == TutorProfile.commune_code)
    .where(
        User.active.is_(True),
        TutorProfile.validated_at.is_not(None),
        or_(
            User.last_name.ilike(bindparam("q"), escape="\\"),
            User.first_name.ilike(bindparam("q"), escape="\\"),
            (User.first_name + " " + User.last_name).ilike(bindparam("q"), escape="\\"),
        ),
    )
    .order_by(User.last_name, User.first_name, User.id)
    .limit(10)
)


def search_tutors(text: str) -> list:
    """Validated, active tutors whose name contains `text` (10 at most), with their places."""
    text = " ".join(text.split())
    if "\x00" in text:  # PostgreSQL refuses it in a text value
        raise DomainError("Nom invalide : il contient un caractère non autorisé.", field="q")
    if len(text) < 2:
        raise DomainError("Tapez au moins deux lettres du nom du tuteur.", field="q")
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(db.session.execute(_SEARCH, {"q": f"%{escaped}%"}).all())


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


def _meeting_place(pool: TutorPool, a: Place, b: Place) -> str:
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


def _place_between(communes: _CommuneArrays, a: Place, b: Place) -> str:
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
    excluded = _excluded(pool, request.mentee_id, frozenset(declined_tutors(request.id)))
    ranked = pool.index.top_candidates(
        mentee_values(profile, commune), k=len(pool.ids), weights=current_weights()
    )
    order = [pool.ids[i] for i, _ in ranked if i not in excluded]
    return (order.index(tutor_id) + 1 if tutor_id in order else None), len(order)


# ---- Who was left out, and what would help (issue 13) ----

PARIS = ZoneInfo("Europe/Paris")

# Fewer ranked tutors than this: the page says what change to the profile would bring more.
FEW_CANDIDATES = 3

_DECLINED = select(
    Pair.tutor_id, Pair.updated_at, Pair.decline_reason, Pair.decline_detail, Pair.tutor_answer
).where(Pair.request_id == bindparam("id"), Pair.status == PairStatus.DECLINED)


@dataclass(frozen=True)
class Declined:
    """A proposal of this demande that was declined: by whom, when, why (in French)."""

    at: datetime
    by_tutor: bool
    reason: str


def _declined(at: datetime, reason: str | None, detail: str, tutor_answer) -> Declined:
    text = vocab.DECLINE_REASONS.get(reason or "", reason or "")
    if detail:
        text = f"{text} : {detail}" if text else detail
    return Declined(at, tutor_answer == PairAnswer.DECLINED, text)


def declined_tutors(request_id: int) -> dict[int, Declined]:
    """The tutors whose proposal for this demande was declined (by them or by the mentee)."""
    return {
        tutor_id: _declined(at, reason, detail, tutor_answer)
        for tutor_id, at, reason, detail, tutor_answer in db.session.execute(
            _DECLINED, {"id": request_id}
        )
    }


def declined_among(proposals) -> dict[int, Declined]:
    """`declined_tutors` from a demande's proposals already read (rows with tutor_id, status,
    updated_at, decline_reason, decline_detail, tutor_answer): one query fewer for its page."""
    return {
        p.tutor_id: _declined(p.updated_at, p.decline_reason, p.decline_detail, p.tutor_answer)
        for p in proposals
        if p.status == PairStatus.DECLINED
    }


def check_not_declined(request: TutoringRequest, tutor_id: int) -> None:
    """Refuse to propose again a tutor whose proposal for this very demande was declined."""
    found = declined_tutors(request.id).get(tutor_id)
    if found is not None:
        who = "Ce tuteur a refusé" if found.by_tutor else "La personne a refusé ce tuteur pour"
        raise Conflict(
            f"{who} cette demande le {found.at.astimezone(PARIS):%d/%m/%Y}"
            + (f" ({found.reason})" if found.reason else "")
            + " : il ne peut pas lui être proposé de nouveau. Choisissez un autre tuteur."
        )


_ROSTER = (
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
        TutorProfile.validated_at,
        TutorProfile.rest_until,
        TutorProfile.unavailable_until,
        Commune.latitude,
        Commune.longitude,
        Commune.nom,
    )
    .join(User, User.id == TutorProfile.user_id)
    .join(Commune, Commune.code_insee == TutorProfile.commune_code)
    .where(User.active.is_(True))
    .order_by(TutorProfile.user_id)
)


def _roster(pool: TutorPool) -> _Roster:
    """Every active tutor with a commune, read once per pool (same token, same tables)."""
    if pool.rosters:
        return pool.rosters[0]
    ids: list[int] = []
    values: list[matching.Tutor] = []
    communes: list[str] = []
    rest: list[datetime | None] = []
    validated: list[bool] = []
    complete: list[bool] = []
    paused: list[date | None] = []
    for row in db.session.execute(_ROSTER):
        ids.append(row.user_id)
        values.append(
            matching.Tutor(
                id=row.user_id,
                lat=row.latitude,
                lon=row.longitude,
                sectors=(row.metier_code,) if row.metier_code else (),
                availability=row.availability,
                max_km=float(row.max_km),
                has_car=row.has_car,
                remote_ok=row.remote_ok,
                obstacles=frozenset(c for c in (row.obstacles or "").split(",") if c),
                capacity=max(row.capacity - row.places_used, 0),
            )
        )
        communes.append(row.nom)
        rest.append(row.rest_until)
        validated.append(row.validated_at is not None)
        complete.append(bool(row.metier_code and row.availability))
        paused.append(row.unavailable_until)
    roster = _Roster(
        ids,
        matching.Roster(values),
        {uid: i for i, uid in enumerate(ids)},
        communes,
        rest,
        validated,
        complete,
        paused,
    )
    with _POOLS_LOCK:
        if not pool.rosters:
            pool.rosters.append(roster)
    return pool.rosters[0]


def roster_holds(r: _Roster, declined, now: datetime) -> dict[str, Any]:
    """What the application knows of each tutor of the roster: the `matching.partition` holds."""
    return {
        "refused": [r.position[t] for t in declined if t in r.position],
        "resting": np.flatnonzero(r.rest_ts > now.timestamp()),
        "paused": np.flatnonzero(r.paused_ts > now.timestamp()),
        "not_validated": r.not_validated,
        "incomplete": r.incomplete,
    }


def pools(now: datetime) -> tuple[TutorPool, _Roster, matching.Weights]:
    """The available tutors' pool, every tutor's roster and the weights (for many demandes)."""
    token, weights_value = _pool_token_and_weights()
    pool = _tutor_pool(token, now)
    return pool, _roster(pool), _weights_from(weights_value)


@dataclass
class LeftOutPerson:
    id: int
    name: str
    commune: str
    distance_km: float
    limit_km: float
    limit_by_mentee: bool
    reasons: tuple[str, ...]
    declined: Declined | None = None
    rest_until: datetime | None = None
    paused_until: date | None = None
    places: tuple[int, int] = (0, 0)  # used, capacity
    frees_by: datetime | None = None  # a pending proposal of theirs expires at the latest then
    slots: tuple[str, ...] = ()

    @property
    def details(self) -> list[str]:
        """Each reason in plain French, with its date, distance or places."""
        return [self._detail(reason) for reason in self.reasons]

    def _detail(self, reason: str) -> str:
        if reason == "refused" and self.declined is not None:
            who = "a refusé" if self.declined.by_tutor else "refusé par la personne"
            why = f" ({self.declined.reason})" if self.declined.reason else ""
            return (
                f"{who} le {_day(self.declined.at)}{why}, ne peut plus être proposé pour "
                "cette demande"
            )
        if reason == "resting" and self.rest_until is not None:
            return f"en repos jusqu'au {_day(self.rest_until)}"
        if reason == "full":
            used, capacity = self.places
            when = (
                f"une proposition sans réponse expire au plus tard le {_day(self.frees_by)}"
                if self.frees_by
                else "une place se libère à la fin d'un de ses binômes"
            )
            return f"{used} place{'s' if used > 1 else ''} sur {capacity} prise{'s' if used > 1 else ''}, {when}"
        if reason == "too_far":
            who = "la personne accompagnée" if self.limit_by_mentee else "le tuteur"
            return f"au-delà des {round(self.limit_km)} km acceptés par {who}"
        if reason == "no_common_slot":
            return (
                "aucun moment libre en commun (tuteur libre : "
                + (", ".join(self.slots) or "aucun moment indiqué")
                + ")"
            )
        return {
            "not_validated": "inscription pas encore validée",
            "paused": (
                f"indisponible jusqu'au {self.paused_until:%d/%m/%Y} (indiqué sur son profil)"
                if self.paused_until is not None
                else "en pause"
            ),
            "incomplete": "profil incomplet (métier ou moments libres)",
        }.get(reason, matching.LEFT_OUT_REASONS.get(reason, reason).lower())


def _day(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y") if value else ""


@dataclass
class LeftOutGroup:
    reason: str
    label: str
    count: int
    people: list[LeftOutPerson]


@dataclass
class Overview:
    """Who was left out of a demande's ranking and why, and what would bring more tutors."""

    groups: list[LeftOutGroup]
    suggestions: list[matching.Suggestion]
    tutors: int  # tutors in the territory's pool (active, with a commune)
    left_out: int


# The closest left-out tutors' names and places, in one query (always run: a constant count).
_PEOPLE = (
    select(
        User.id, User.first_name, User.last_name, TutorProfile.places_used, TutorProfile.capacity
    )
    .join(TutorProfile, TutorProfile.user_id == User.id)
    .where(User.id.in_(bindparam("ids", expanding=True)))
)
_PENDING_OF = select(Pair.tutor_id, Pair.proposed_at).where(
    Pair.tutor_id.in_(bindparam("ids", expanding=True)),
    Pair.status.in_(list(UNANSWERED_PAIR_STATUSES)),
)


def left_out_for(
    request: Any, declined: dict[int, Declined], facts: tuple[Any, Any] | None = None
) -> tuple[int, Overview]:
    """How many tutors are ranked for `request`, and those left out, grouped by reason, with the
    closest people of each group and their reasons in French (the « Tuteurs écartés » page); when
    fewer than FEW_CANDIDATES are ranked, what change to the mentee's profile would bring more.
    `request`: a demande or a row with its `mentee_id`; `facts`: as for `_ranking`."""
    pool, _commune, ranked, mentee = _ranking(request, None, frozenset(declined), facts=facts)
    feasible = ranked[1] if ranked is not None else 0
    below = ranked[3] if ranked is not None else ()
    return feasible, _left_out(
        mentee, pool, declined, feasible, datetime.now(UTC), with_people=True, below=below
    )


def request_overview(
    request: Any,
    k: int | None,
    declined: dict[int, Declined],
    known: dict[str, str] | None = None,
    facts: tuple[Any, Any] | None = None,
    settings: tuple[str | None, Any, float | None] | None = None,
) -> tuple[list[Candidate], int, Overview]:
    """A demande page's ranked tutors, how many are feasible, and who was left out: the groups and
    their counts, and the diagnosis when few are ranked, without the people (one pool read; the
    people are on their own page, `left_out_for`). `known`: the ROME labels of the mentee's codes,
    read by the page (`reference.rome_code_labels`); `request`, `facts`, `settings`: as for
    `_ranking` (a row of the demande with its `mentee_id`, and rows of the profile and commune
    will do)."""
    now = datetime.now(UTC)
    pool, commune, ranked, mentee = _ranking(
        request, k, frozenset(declined), known, facts, settings
    )
    candidates, feasible = _candidates(pool, commune, ranked) if ranked is not None else ([], 0)
    return (
        candidates,
        feasible,
        _left_out(
            mentee,
            pool,
            declined,
            feasible,
            now,
            with_people=False,
            below=ranked[3] if ranked is not None else (),
        ),
    )


def _left_out(
    mentee: matching.Mentee,
    pool: TutorPool,
    declined: dict[int, Declined],
    ranked: int,
    now: datetime,
    *,
    with_people: bool,
    below: tuple[int, ...] = (),
) -> Overview:
    r = _roster(pool)
    holds = roster_holds(r, declined, now)
    # Tutors under the minimum score (pool positions) are left out for that reason.
    holds["below_min_score"] = [r.position[pool.ids[i]] for i in below if pool.ids[i] in r.position]
    few = ranked < FEW_CANDIDATES
    # Pure functions of this key and of the pool: kept with the ranked lists, and gone with them.
    key = ("left_out", mentee, frozenset(declined), holds["resting"].tobytes(), few, below)
    found = pool.ranked.get(key)
    if found is None:
        part = matching.partition(mentee, r.roster, holds)
        diagnosis = (
            list(matching.diagnose(mentee, r.roster, holds, place_names=r.communes)) if few else []
        )
        found = (part, diagnosis)
        with _POOLS_LOCK:
            if len(pool.ranked) >= _RANKED_MAX:
                pool.ranked.clear()
            pool.ranked[key] = found
    part, suggestions = found
    groups = part.groups
    if not with_people:
        return Overview(
            [LeftOutGroup(g.reason, g.label, g.count, []) for g in groups],
            suggestions,
            len(r.ids),
            part.left_out,
        )
    shown = sorted({i for g in groups for i in g.closest})
    ids = [r.ids[i] for i in shown]
    names: dict[int, str] = {}
    places: dict[int, tuple[int, int]] = {}
    for uid, first, last, used, capacity in db.session.execute(_PEOPLE, {"ids": ids}):
        names[uid], places[uid] = f"{first} {last}", (used, capacity)
    full_ids = [r.ids[i] for i in shown if "full" in part.reasons(i)]
    frees: dict[int, datetime] = {}
    expiry = timedelta(days=current_app.config["PROPOSAL_EXPIRY_DAYS"])
    for uid, proposed_at in db.session.execute(_PENDING_OF, {"ids": full_ids}):
        at = proposed_at + expiry
        frees[uid] = min(frees.get(uid, at), at)
    out: list[LeftOutGroup] = []
    for g in groups:
        people = []
        for i in g.closest:
            uid = r.ids[i]
            people.append(
                LeftOutPerson(
                    id=uid,
                    name=names.get(uid, ""),
                    commune=r.communes[i],
                    distance_km=float(part.distance_km[i]),
                    limit_km=float(part.limit_km[i]),
                    limit_by_mentee=bool(part.limit_by_mentee[i]),
                    reasons=part.reasons(i),
                    declined=declined.get(uid),
                    rest_until=r.rest_until[i],
                    paused_until=r.paused_until[i],
                    places=places.get(uid, (0, 0)),
                    frees_by=frees.get(uid),
                    slots=tuple(matching.slots_to_labels(r.roster.tutors[i].availability)),
                )
            )
        out.append(LeftOutGroup(g.reason, g.label, g.count, people))
    return Overview(out, suggestions, len(r.ids), part.left_out)
