"""Vectorised score matrix and the per-pair explanation that shares its arithmetic to the last digit."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import MatchingInputError
from .geo import chord_to_km, unit_vectors
from .types import (
    NO_CAR_MAX_KM,
    OBSTACLES,
    ROME_LEVEL_LABELS,
    Mentee,
    Tutor,
    Weights,
    slots_to_labels,
)

__all__ = [
    "PART_LABELS",
    "SECTOR_LEVEL_VALUES",
    "Explanation",
    "PartDetail",
    "explain",
    "reason_part",
    "rome_level",
    "score_matrix",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Value of the sector part for each level at which two ROME codes agree.
SECTOR_LEVEL_VALUES: Mapping[str | None, float] = MappingProxyType(
    {"occupation": 1.0, "domain": 0.6, "broad_domain": 0.3, None: 0.0}
)
_LEVELS: tuple[str | None, ...] = (None, "broad_domain", "domain", "occupation")
_LEVEL_VALUE = np.array([SECTOR_LEVEL_VALUES[level] for level in _LEVELS], dtype=np.float64)

#: French names of the parts of the score.
PART_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "distance": "Distance",
        "sector": "Métier",
        "availability": "Disponibilités",
        "experience": "Expérience vécue",
    }
)

# A limit of 0 km still lets people of the same commune meet; dividing by it must not blow up.
_MIN_LIMIT_KM = 1e-9
# Rows x columns of one block of work: small enough to stay in the CPU cache.
_BLOCK_CELLS = 1 << 15

_POP11 = np.array([bin(i).count("1") for i in range(1 << 11)], dtype=np.uint8)


def _popcount(values: Any, out: Any = None) -> Any:
    """Number of set bits of each (21-bit) integer."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(values, out=out)
    return np.add(_POP11[values & 0x7FF], _POP11[values >> 11], out=out)  # numpy < 2.0


# --------------------------------------------------------------------------------------------
# ROME codes
# --------------------------------------------------------------------------------------------


def _rome_keys(code: str) -> tuple[int, int, int]:
    """Integer keys (grand domaine, domaine, métier) of a code; -1 where the code stops short."""
    grand = ord(code[0]) - ord("A")
    domaine = grand * 100 + int(code[1:3]) if len(code) >= 3 else -1
    metier = domaine * 100 + int(code[3:5]) if len(code) == 5 else -1
    return grand, domaine, metier


def rome_level(a: str, b: str) -> str | None:
    """Finest level at which two ROME codes agree.

    Returns
    -------
    str or None
        ``"occupation"`` (same 5-character code), ``"domain"`` (same first 3 characters),
        ``"broad_domain"`` (same letter) or ``None``. A code given only as a domaine
        (``"K13"``) can agree at most at the domaine level.
    """
    ka, kb = _rome_keys(a), _rome_keys(b)
    if ka[2] >= 0 and ka[2] == kb[2]:
        return "occupation"
    if ka[1] >= 0 and ka[1] == kb[1]:
        return "domain"
    if ka[0] == kb[0]:
        return "broad_domain"
    return None


def _best_rome(sectors_a: Sequence[str], sectors_b: Sequence[str]) -> tuple[str | None, str | None]:
    """Best level over all pairs of codes, and the shared code at that level (first found)."""
    best: str | None = None
    shared: str | None = None
    rank = {level: i for i, level in enumerate(_LEVELS)}
    for a in sectors_a:
        for b in sectors_b:
            level = rome_level(a, b)
            if rank[level] > rank[best]:
                best = level
                shared = (
                    a[: {"occupation": 5, "domain": 3, "broad_domain": 1}[level]] if level else None
                )
    return best, shared


def _code_keys(codes: Sequence[str], missing: int) -> IntArray:
    """Keys of each code as an (n, 3) array, with ``missing`` where a code stops short."""
    keys = np.array([_rome_keys(c) for c in codes], dtype=np.int64).reshape(-1, 3)
    return np.where(keys < 0, missing, keys)


def _level_table(ka: IntArray, kb: IntArray) -> FloatArray:
    """Sector value of every (code of a, code of b), with an extra zero row and column for padding.

    Missing levels must be -1 on one side and -2 on the other, so that they never agree.
    """
    table = np.zeros((len(ka) + 1, len(kb) + 1), dtype=np.float64)
    if len(ka) and len(kb):
        level = (ka[:, None, 0] == kb[None, :, 0]).astype(np.int64)
        level = np.where(ka[:, None, 1] == kb[None, :, 1], 2, level)
        level = np.where(ka[:, None, 2] == kb[None, :, 2], 3, level)
        table[:-1, :-1] = _LEVEL_VALUE[level]
    return table


def _index_codes(groups: Sequence[Sequence[str]]) -> tuple[list[str], IntArray]:
    """Distinct codes, and per person the indices of their codes padded with len(distinct)."""
    distinct: dict[str, int] = {}
    for codes in groups:
        for code in codes:
            distinct.setdefault(code, len(distinct))
    width = max([len(set(codes)) for codes in groups] + [1])
    index = np.full((len(groups), width), len(distinct), dtype=np.int64)
    for row, codes in enumerate(groups):
        for col, code in enumerate(dict.fromkeys(codes)):
            index[row, col] = distinct[code]
    return list(distinct), index


# --------------------------------------------------------------------------------------------
# Features of each side, computed once
# --------------------------------------------------------------------------------------------


class _Side:
    """Per-person arrays shared by both sides of the kernel."""

    x: FloatArray
    y: FloatArray
    z: FloatArray
    limit: FloatArray  # effective distance limit (km); -1 for a tutor without capacity
    limit_div: FloatArray  # max(limit, _MIN_LIMIT_KM), the divisor of the distance part
    remote: NDArray[np.bool_]  # accepts remote contact (False for a tutor without capacity)
    slots: IntArray
    slot_count: FloatArray  # max(1, number of slots): divisor of the availability part

    def _fill(self, people: Sequence[Mentee] | Sequence[Tutor], active: NDArray[np.bool_]) -> None:
        n = len(people)
        lat = np.fromiter((p.lat for p in people), dtype=np.float64, count=n)
        lon = np.fromiter((p.lon for p in people), dtype=np.float64, count=n)
        self.x, self.y, self.z = unit_vectors(lat, lon)
        limit = np.fromiter((p.effective_max_km for p in people), dtype=np.float64, count=n)
        self.limit = np.where(active, limit, -1.0)
        self.limit_div = np.maximum(self.limit, _MIN_LIMIT_KM)
        remote = np.fromiter((p.remote_ok for p in people), dtype=np.bool_, count=n)
        self.remote = remote & active
        self.slots = np.fromiter((p.availability for p in people), dtype=np.int64, count=n)
        self.slot_count = np.maximum(_popcount(self.slots), 1).astype(np.float64)


class TutorSide(_Side):
    """Everything about a list of tutors that does not depend on the mentees."""

    def __init__(self, tutors: Sequence[Tutor]) -> None:
        tutors = list(tutors)
        for t in tutors:
            if not isinstance(t, Tutor):
                raise MatchingInputError(
                    f"Des tuteurs (Tutor) sont attendus, pas {type(t).__name__}."
                )
        m = len(tutors)
        self.tutors = tutors
        self.capacity = np.fromiter((t.capacity for t in tutors), dtype=np.int64, count=m)
        self._fill(tutors, self.capacity > 0)
        self.ids = np.fromiter((t.id for t in tutors), dtype=np.int64, count=m)
        # None (never asked) sorts first.
        self.last_asked = np.fromiter(
            (-math.inf if t.last_asked is None else t.last_asked for t in tutors),
            dtype=np.float64,
            count=m,
        )
        self.codes, self.code_index = _index_codes([t.sectors for t in tutors])
        self.code_keys = _code_keys(self.codes, -2)
        vocabulary = sorted({code for t in tutors for code in t.obstacles})
        self.obstacle_vocabulary = {code: i for i, code in enumerate(vocabulary)}
        sets: dict[frozenset[str], int] = {}
        self.obstacle_index = np.fromiter(
            (sets.setdefault(t.obstacles, len(sets)) for t in tutors), dtype=np.int64, count=m
        )
        self.obstacle_sets = np.zeros((len(vocabulary), max(len(sets), 1)), dtype=np.float64)
        for obstacles, column in sets.items():
            for code in obstacles:
                self.obstacle_sets[self.obstacle_vocabulary[code], column] = 1.0

    def __len__(self) -> int:
        return len(self.tutors)

    def subset(self, columns: IntArray | None) -> _TutorColumns:
        """The kernel's view of some of the tutors."""
        return _TutorColumns(self, columns)


class _TutorColumns:
    """Tutor arrays restricted to some columns (all of them when ``columns`` is None)."""

    def __init__(self, side: TutorSide, columns: IntArray | None) -> None:
        take = (lambda a: a) if columns is None else (lambda a: a[columns])
        self.x, self.y, self.z = take(side.x), take(side.y), take(side.z)
        self.limit, self.limit_div = take(side.limit), take(side.limit_div)
        self.remote, self.slots, self.slot_count = (
            take(side.remote),
            take(side.slots),
            take(side.slot_count),
        )
        self.code_index = side.code_index if columns is None else side.code_index[columns]
        self.obstacle_index = take(side.obstacle_index)
        self.obstacle_sets = side.obstacle_sets


class MenteeSide(_Side):
    """Everything about a list of mentees, relative to the tutors' codes and obstacle vocabulary."""

    def __init__(self, mentees: Sequence[Mentee], tutors: TutorSide) -> None:
        mentees = list(mentees)
        for p in mentees:
            if not isinstance(p, Mentee):
                raise MatchingInputError(
                    f"Des bénéficiaires (Mentee) sont attendus, pas {type(p).__name__}."
                )
        n = len(mentees)
        self.mentees = mentees
        self._fill(mentees, np.ones(n, dtype=np.bool_))
        codes, self.code_index = _index_codes([p.sectors for p in mentees])
        self.level_table = _level_table(_code_keys(codes, -1), tutors.code_keys)
        vocabulary = tutors.obstacle_vocabulary
        self.obstacles = np.zeros((n, len(vocabulary)), dtype=np.float64)
        for row, p in enumerate(mentees):
            for code in p.obstacles:
                if code in vocabulary:
                    self.obstacles[row, vocabulary[code]] = 1.0
        # Obstacles no tutor declared still count in the mentee's total.
        self.obstacle_count = np.fromiter(
            (max(len(p.obstacles), 1) for p in mentees), dtype=np.float64, count=n
        )

    def __len__(self) -> int:
        return len(self.mentees)


# --------------------------------------------------------------------------------------------
# The kernel
# --------------------------------------------------------------------------------------------


class _Workspace:
    """Scratch arrays for blocks of up to ``rows`` x ``cols`` pairs, reused from block to block.

    Reusing them avoids allocating (and page-faulting) fresh temporaries for every block,
    which costs more than the arithmetic itself.
    """

    def __init__(self, rows: int, cols: int) -> None:
        shape = (rows, cols)
        self.f1, self.f2, self.f3, self.f4 = (np.empty(shape, dtype=np.float64) for _ in range(4))
        self.common = np.empty(shape, dtype=np.int64)
        self.count = np.empty(shape, dtype=np.uint8)
        self.b1, self.b2, self.b3 = (np.empty(shape, dtype=np.bool_) for _ in range(3))

    def take(self, rows: int) -> _Workspace:
        """The same buffers restricted to their first ``rows`` rows (still contiguous)."""
        view = object.__new__(_Workspace)
        for name, value in vars(self).items():
            setattr(view, name, value[:rows])
        return view


def _kernel(
    ms: MenteeSide,
    r0: int,
    r1: int,
    ts: _TutorColumns,
    w: Weights,
    out: FloatArray | None = None,
    work: _Workspace | None = None,
    detail: bool = False,
) -> tuple[FloatArray, dict[str, Any]]:
    """Scores of mentees ``r0:r1`` against the given tutor columns (nan where infeasible).

    Every public entry point (score_matrix, explain, top_candidates, TutorIndex) goes through
    this function, so they all perform the same floating-point operations on each pair: the
    score is ``((wd * distance + ws * sector) + (wa * availability + we * experience)) / W``
    with ``W = (wd + ws) + (wa + we)``, computed in that order.
    """
    rows = slice(r0, r1)
    b, m = r1 - r0, len(ts.x)
    ws = work if work is not None else _Workspace(b, m)
    score = out if out is not None else np.empty((b, m), dtype=np.float64)
    parts: dict[str, Any] = {}
    mx, my, mz = ms.x[rows, None], ms.y[rows, None], ms.z[rows, None]

    # Distance (km), same operations as geo.chord_to_km.
    dist, tmp = ws.f1, ws.f2
    np.subtract(mx, ts.x[None, :], out=tmp)
    np.multiply(tmp, tmp, out=dist)
    np.subtract(my, ts.y[None, :], out=tmp)
    np.multiply(tmp, tmp, out=tmp)
    np.add(dist, tmp, out=dist)
    np.subtract(mz, ts.z[None, :], out=tmp)
    np.multiply(tmp, tmp, out=tmp)
    np.add(dist, tmp, out=dist)
    chord_to_km(dist, out=dist)
    # Beyond either person's effective limit?
    far, far_t = ws.b1, ws.b2
    np.greater(dist, ms.limit[rows, None], out=far)
    np.greater(dist, ts.limit[None, :], out=far_t)
    np.logical_or(far, far_t, out=far)
    # Distance part: max(0, 1 - d / min(limits)); d / min(lm, lt) is computed as
    # max(d / lm, d / lt), the same number since rounded division is monotone.
    v_dist = ws.f3
    np.divide(dist, ms.limit_div[rows, None], out=v_dist)
    np.divide(dist, ts.limit_div[None, :], out=tmp)
    np.maximum(v_dist, tmp, out=v_dist)
    np.subtract(1.0, v_dist, out=v_dist)
    np.maximum(v_dist, 0.0, out=v_dist)
    if detail:
        parts["distance_km"] = dist.copy()
        parts["far"] = far.copy()
        parts["distance"] = v_dist.copy()
    np.multiply(v_dist, w.distance, out=score)

    # Sector part: best level over all pairs of codes, read from a small per-mentee table of the
    # tutors' distinct codes; weighting the table multiplies each value by the same weight.
    table = ms.level_table[ms.code_index[rows, 0]]
    for col in range(1, ms.code_index.shape[1]):
        np.maximum(table, ms.level_table[ms.code_index[rows, col]], out=table)
    if detail:
        parts["sector"] = _gather_max(table, ts.code_index, np.empty((b, m)), tmp)
    table *= w.sector
    np.add(score, _gather_max(table, ts.code_index, v_dist, tmp), out=score)

    # Availability part: common slots / slots of the less available person.
    common, count = ws.common, ws.count
    np.bitwise_and(ms.slots[rows, None], ts.slots[None, :], out=common)
    _popcount(common, out=count)
    v_slots = ws.f4
    np.divide(count, ms.slot_count[rows, None], out=v_slots)
    np.divide(count, ts.slot_count[None, :], out=tmp)
    np.maximum(v_slots, tmp, out=v_slots)
    if detail:
        parts["common"] = common.copy()
        parts["availability"] = v_slots.copy()
    np.multiply(v_slots, w.availability, out=v_slots)

    # Lived experience: share of the mentee's declared obstacles that the tutor overcame
    # (counts are small integers, exact whatever the order of the sum).
    shared = ms.obstacles[rows] @ ts.obstacle_sets
    shared /= ms.obstacle_count[rows, None]
    if detail:
        parts["experience"] = np.take(shared, ts.obstacle_index, axis=1)
    shared *= w.experience
    np.take(shared, ts.obstacle_index, axis=1, out=v_dist)
    np.add(v_slots, v_dist, out=v_slots)
    np.add(score, v_slots, out=score)
    np.divide(score, w.total, out=score)

    # Feasible: (within both limits and a common slot) or both accept remote contact.
    feasible, both = ws.b2, ws.b3
    np.not_equal(common, 0, out=feasible)
    np.greater(feasible, far, out=feasible)  # has a common slot and not far
    np.logical_and(ms.remote[rows, None], ts.remote[None, :], out=both)
    np.logical_or(feasible, both, out=feasible)
    if detail:
        parts["feasible"] = feasible.copy()
    # score + 0.0 is score (scores are >= +0) and score + nan is nan: cheaper than a masked store.
    np.copyto(tmp, feasible)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(0.0, tmp, out=tmp)
    np.add(score, tmp, out=score)
    return score, parts


def _gather_max(table: FloatArray, index: IntArray, out: FloatArray, tmp: FloatArray) -> FloatArray:
    """``out[r, j] = max_k table[r, index[j, k]]``."""
    np.take(table, index[:, 0], axis=1, out=out)
    for col in range(1, index.shape[1]):
        np.take(table, index[:, col], axis=1, out=tmp)
        np.maximum(out, tmp, out=out)
    return out


def _check_weights(weights: Weights) -> Weights:
    if not isinstance(weights, Weights):
        raise MatchingInputError(
            f"Des poids (matching.Weights) sont attendus, pas {type(weights).__name__}."
        )
    return weights


def score_matrix(
    mentees: Sequence[Mentee],
    tutors: Sequence[Tutor],
    weights: Weights | None = None,
) -> FloatArray:
    """Score of every (mentee, tutor) pair.

    Parameters
    ----------
    mentees : sequence of Mentee
    tutors : sequence of Tutor
    weights : Weights, optional
        Defaults to ``Weights()``.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(mentees), len(tutors))``, dtype float64: the score in [0, 1] of each
        feasible pair, ``nan`` where the pair is infeasible (beyond either person's distance
        limit or without a common slot, unless both accept remote contact; or no place left).

    Notes
    -----
    The work is done in blocks of rows, so that memory beyond the result stays small
    (10,000 x 3,000 needs the 240 MB of the result and a few MB more).
    """
    w = _check_weights(weights if weights is not None else Weights())
    ts = TutorSide(tutors)
    ms = MenteeSide(mentees, ts)
    return _score_sides(ms, ts, w)


def _score_sides(ms: MenteeSide, ts: TutorSide, w: Weights) -> FloatArray:
    n, m = len(ms), len(ts)
    result = np.empty((n, m), dtype=np.float64)
    if n == 0 or m == 0:
        return result
    cols = ts.subset(None)
    step = max(1, _BLOCK_CELLS // m)
    work = _Workspace(min(step, n), m)
    for r0 in range(0, n, step):
        r1 = min(n, r0 + step)
        _kernel(ms, r0, r1, cols, w, out=result[r0:r1], work=work.take(r1 - r0))
    return result


# --------------------------------------------------------------------------------------------
# Explanation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartDetail:
    """One part of the score: its value in [0, 1], its weight and what it adds to the score."""

    label: str
    value: float
    weight: float
    share: float
    contribution: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "label": self.label,
            "value": self.value,
            "weight": self.weight,
            "share": self.share,
            "contribution": self.contribution,
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a tutor is (or is not) proposed to a mentee, with the numbers behind the score.

    Attributes
    ----------
    score : float
        Same value as ``score_matrix``; ``nan`` if the pair is infeasible.
    feasible : bool
    parts : mapping of str to PartDetail
        ``distance``, ``sector``, ``availability``, ``experience``: ``value`` in [0, 1],
        ``weight`` as set, ``share`` = weight / sum of weights, ``contribution`` = share x value.
    distance_km : float
        Exact great-circle distance between the two communes' centroids.
    limit_km : float
        The smaller of the two effective distance limits.
    rome_level : str or None
        ``"occupation"``, ``"domain"``, ``"broad_domain"`` or None.
    shared_code : str or None
        The shared ROME code at that level (``"K1302"``, ``"K13"`` or ``"K"``).
    common_slots : tuple of int
        Bits of the common weekly slots.
    common_slot_labels : tuple of str
        Their French labels (``"mardi soir"``).
    common_obstacles : tuple of str
        Codes of the mentee's obstacles that the tutor overcame (in ``OBSTACLES`` order).
    remote : bool
        The pair is feasible only at a distance (too far, or no common slot).
    reasons : tuple of str
        Short French sentences a référent can read aloud.
    infeasible_reasons : tuple of str
        Why the pair cannot be proposed (empty when feasible).
    reason_parts : tuple of str
        For each sentence of ``reasons``, the part it speaks of (``"distance"``, ``"sector"``,
        ``"availability"`` or ``"experience"``), so that a viewer who may not see a part is
        not shown its sentence either.
    """

    score: float
    feasible: bool
    parts: Mapping[str, PartDetail]
    distance_km: float
    limit_km: float
    rome_level: str | None
    shared_code: str | None
    common_slots: tuple[int, ...]
    common_slot_labels: tuple[str, ...]
    common_obstacles: tuple[str, ...]
    remote: bool
    reasons: tuple[str, ...]
    infeasible_reasons: tuple[str, ...]
    weights: Weights
    mentee_id: int
    tutor_id: int
    reason_parts: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (``nan`` becomes ``None``) to store with a proposal."""
        return {
            "mentee_id": self.mentee_id,
            "tutor_id": self.tutor_id,
            "score": None if math.isnan(self.score) else self.score,
            "feasible": self.feasible,
            "parts": {name: part.to_dict() for name, part in self.parts.items()},
            "weights": self.weights.to_dict(),
            "distance_km": self.distance_km,
            "limit_km": self.limit_km,
            "rome_level": self.rome_level,
            "rome_level_label": ROME_LEVEL_LABELS.get(self.rome_level or ""),
            "shared_code": self.shared_code,
            "common_slots": list(self.common_slots),
            "common_slot_labels": list(self.common_slot_labels),
            "common_obstacles": list(self.common_obstacles),
            "remote": self.remote,
            "reasons": list(self.reasons),
            "reason_parts": list(self.reason_parts),
            "infeasible_reasons": list(self.infeasible_reasons),
        }


def _km(value: float, exact_near: float | None = None) -> str:
    """A distance for reading aloud: whole km, or one decimal when small or close to a limit."""
    if value < 1.0:
        return "moins d'un kilomètre"
    if value < 10.0 or (exact_near is not None and abs(value - exact_near) < 1.0):
        text = f"{value:.1f}".replace(".", ",")
        return f"{text.removesuffix(',0')} km"
    return f"{round(value)} km"


def _limit_holder(mentee: Mentee, tutor: Tutor) -> str:
    """Who sets the pair's distance limit, in words."""
    lm, lt = mentee.effective_max_km, tutor.effective_max_km
    if lm == lt:
        if not mentee.has_car and not tutor.has_car:
            return "chacune, sans voiture, accepte"
        return "chacune accepte"
    person, who = (mentee, "la personne accompagnée") if lm < lt else (tutor, "la personne tutrice")
    if not person.has_car and person.max_km > NO_CAR_MAX_KM:
        return f"{who}, sans voiture, accepte"
    if not person.has_car:
        return f"{who} (sans voiture) accepte"
    return f"{who} accepte"


def _obstacle_label(code: str) -> str:
    label = OBSTACLES.get(code, code)
    return label[:1].lower() + label[1:]


def _join(items: Sequence[str]) -> str:
    return ", ".join(items)


def explain(mentee: Mentee, tutor: Tutor, weights: Weights | None = None) -> Explanation:
    """Explain the score of one (mentee, tutor) pair.

    Parameters
    ----------
    mentee : Mentee
    tutor : Tutor
    weights : Weights, optional
        Defaults to ``Weights()``.

    Returns
    -------
    Explanation
        The score (the very same float as ``score_matrix([mentee], [tutor], weights)[0, 0]``),
        the value, weight and contribution of each part, the distance, the shared ROME level,
        the common slots and obstacles, and French sentences saying why.
    """
    w = _check_weights(weights if weights is not None else Weights())
    if not isinstance(mentee, Mentee):
        raise MatchingInputError(
            f"Un bénéficiaire (Mentee) est attendu, pas {type(mentee).__name__}."
        )
    if not isinstance(tutor, Tutor):
        raise MatchingInputError(f"Un tuteur (Tutor) est attendu, pas {type(tutor).__name__}.")
    # A tutor without a place left is infeasible whatever else; the parts are still worth
    # showing, so they are computed as if one place were left.
    ts = TutorSide([tutor if tutor.capacity > 0 else replace(tutor, capacity=1)])
    ms = MenteeSide([mentee], ts)
    score_arr, arr = _kernel(ms, 0, 1, ts.subset(None), w, detail=True)
    has_place = tutor.capacity > 0
    score = float(score_arr[0, 0]) if has_place else math.nan
    dist = float(arr["distance_km"][0, 0])
    near = not bool(arr["far"][0, 0])
    feasible = bool(arr["feasible"][0, 0]) and has_place
    common_mask = int(arr["common"][0, 0])
    limit = min(mentee.effective_max_km, tutor.effective_max_km)
    both_remote = mentee.remote_ok and tutor.remote_ok

    total = w.total
    parts = {}
    for name in Weights.PARTS:
        value = float(arr[name][0, 0])
        weight = float(getattr(w, name))
        parts[name] = PartDetail(
            label=PART_LABELS[name],
            value=value,
            weight=weight,
            share=weight / total,
            contribution=weight * value / total,
        )
    level, shared = _best_rome(mentee.sectors, tutor.sectors)
    common_slots = tuple(b for b in range(21) if common_mask >> b & 1)
    labels = tuple(slots_to_labels(common_mask))
    order = {code: i for i, code in enumerate(OBSTACLES)}
    common_obstacles = tuple(
        sorted(mentee.obstacles & tutor.obstacles, key=lambda c: (order.get(c, len(order)), c))
    )

    # Sentences, one per part, then what makes the pair impossible.
    reasons: list[str] = []
    kinds: list[str] = []
    holder = _limit_holder(mentee, tutor)
    if dist == 0.0:
        where = "Les deux personnes habitent la même commune"
    else:
        where = f"Les deux personnes habitent à {_km(dist, limit)} l'une de l'autre"
    if near:
        reasons.append(f"{where} ; {holder} jusqu'à {_km(limit)}.")
        kinds.append("distance")
    elif both_remote:
        reasons.append(
            f"{where}, au-delà de ce que {holder.removesuffix(' accepte')} accepte ({_km(limit)}) ; "
            "les deux acceptent les échanges à distance."
        )
        kinds.append("distance")
    if level is not None:
        reasons.append(f"{ROME_LEVEL_LABELS[level]} : {shared}.")
        kinds.append("sector")
    elif not mentee.sectors:
        reasons.append("Aucun métier visé n'est indiqué.")
        kinds.append("sector")
    else:
        reasons.append("Aucun métier ni domaine professionnel en commun.")
        kinds.append("sector")
    if labels:
        reasons.append(f"Créneaux communs : {_join(labels)}.")
        kinds.append("availability")
    elif both_remote:
        reasons.append(
            "Aucun créneau commun : les échanges se feront à distance, à des moments choisis par chacune."
        )
        kinds.append("availability")
    if common_obstacles:
        what = "une difficulté" if len(common_obstacles) == 1 else "des difficultés"
        reasons.append(
            f"La personne tutrice a surmonté {what} que la personne accompagnée rencontre "
            f"aujourd'hui : {_join([_obstacle_label(c) for c in common_obstacles])}."
        )
        kinds.append("experience")
    elif mentee.obstacles:
        reasons.append("Pas de difficulté vécue en commun parmi celles déclarées.")
        kinds.append("experience")

    infeasible: list[str] = []
    if tutor.capacity <= 0:
        infeasible.append("La personne tutrice n'a plus de place disponible.")
    if not both_remote:
        if not near:
            infeasible.append(
                f"{where}, au-delà de ce que {holder.removesuffix(' accepte')} accepte ({_km(limit)}), "
                "et les échanges à distance ne sont pas acceptés par les deux."
            )
        if not common_mask:
            infeasible.append(
                "Aucun créneau commun, et les échanges à distance ne sont pas acceptés par les deux."
            )
    if feasible:
        infeasible = []
    remote = feasible and not (near and common_mask)
    return Explanation(
        score=score,
        feasible=feasible,
        parts=parts,
        distance_km=dist,
        limit_km=limit,
        rome_level=level,
        shared_code=shared,
        common_slots=common_slots,
        common_slot_labels=labels,
        common_obstacles=common_obstacles,
        remote=remote,
        reasons=tuple(reasons),
        infeasible_reasons=tuple(infeasible),
        weights=w,
        mentee_id=mentee.id,
        tutor_id=tutor.id,
        reason_parts=tuple(kinds),
    )


# The opening words of each kind of sentence written by ``explain`` (for explanations stored
# before ``reason_parts`` existed).
_REASON_OPENINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("distance", ("Les deux personnes habitent",)),
    ("sector", ("Aucun métier", *(f"{label} :" for label in ROME_LEVEL_LABELS.values()))),
    ("availability", ("Créneaux communs", "Aucun créneau commun")),
    ("experience", ("La personne tutrice a surmonté", "Pas de difficulté vécue")),
)


def reason_part(sentence: str) -> str | None:
    """The part of the score a sentence of ``Explanation.reasons`` speaks of.

    Parameters
    ----------
    sentence : str
        One sentence written by ``explain``.

    Returns
    -------
    str or None
        ``"distance"``, ``"sector"``, ``"availability"`` or ``"experience"``; None for a
        sentence ``explain`` does not write (a caller hiding parts should then hide it too).
    """
    for part, openings in _REASON_OPENINGS:
        if sentence.startswith(openings):
            return part
    return None
