"""Who was left out of a ranking and why, and what would widen it: computed over the whole pool.

A référent decides (RGPD art. 22): besides the ranked tutors, they must see the tutors the ranking
set aside, each with its true reasons, and, when few or none fit, what change to the mentee's
profile would bring how many more. Everything here is pure computation on plain values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from .scoring import MenteeSide, TutorSide, _kernel
from .types import NO_CAR_MAX_KM, SLOT_COUNT, Mentee, Tutor, Weights, slot_label

__all__ = [
    "HOLD_REASONS",
    "LEFT_OUT_REASONS",
    "REASON_BITS",
    "Group",
    "Partition",
    "Roster",
    "Suggestion",
    "diagnose",
    "partition",
]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Why a tutor is left out of a ranking (code -> French group title), in display order. The
#: codes of ``HOLD_REASONS`` are facts the application knows (a refusal, a rest period…);
#: ``full``, ``too_far`` and ``no_common_slot`` are computed here from the values.
LEFT_OUT_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "refused": "A déjà refusé cette demande",
        "resting": "En repos après un binôme",
        "full": "Plus de place libre",
        "too_far": "Trop loin",
        "no_common_slot": "Aucun moment libre en commun",
        "not_validated": "Pas encore validé",
        "paused": "En pause",
        "incomplete": "Profil incomplet",
        "below_min_score": "Note sous le minimum fixé",
    }
)
#: Reasons the caller states for each tutor (the others are computed).
HOLD_REASONS = frozenset(
    {"refused", "resting", "not_validated", "paused", "incomplete", "below_min_score"}
)

_GEOMETRY = Weights()


class Roster:
    """Every tutor of the territory, whatever their state, prepared once for many mentees.

    Parameters
    ----------
    tutors : sequence of Tutor
        ``capacity`` is the number of places left (0: full). Positions in this sequence are the
        indices used by :func:`partition` and :func:`diagnose`.
    """

    def __init__(self, tutors: Sequence[Tutor]) -> None:
        tutors = list(tutors)
        self.tutors = tutors
        self.full: BoolArray = np.array([t.capacity <= 0 for t in tutors], dtype=np.bool_)
        # Distance and slots do not depend on the places left: the geometry is computed as if
        # every tutor had one, and being full is a reason of its own.
        self.side = TutorSide([replace(t, capacity=1) if t.capacity <= 0 else t for t in tutors])
        self.limits: FloatArray = np.array([t.effective_max_km for t in tutors], dtype=np.float64)

    def __len__(self) -> int:
        return len(self.tutors)


@dataclass(frozen=True)
class _Geometry:
    distance_km: FloatArray
    too_far: BoolArray  # beyond a limit, and remote contact not accepted by both
    no_slot: BoolArray  # no common slot, and remote contact not accepted by both
    feasible: BoolArray  # as matching's kernel says, places aside
    sector: FloatArray  # value of the sector part (1 same métier, 0.6 same domaine…)
    far_tutor: BoolArray  # beyond the tutor's own limit


def _geometry(mentee: Mentee, roster: Roster) -> _Geometry:
    if not len(roster):
        empty_f = np.empty(0, dtype=np.float64)
        empty_b = np.empty(0, dtype=np.bool_)
        return _Geometry(empty_f, empty_b, empty_b, empty_b, empty_f, empty_b)
    ms = MenteeSide([mentee], roster.side)
    _, parts = _kernel(ms, 0, 1, roster.side.subset(None), _GEOMETRY, detail=True)
    both_remote = mentee.remote_ok & roster.side.remote
    far = parts["far"][0]
    return _Geometry(
        distance_km=parts["distance_km"][0],
        too_far=far & ~both_remote,
        no_slot=(parts["common"][0] == 0) & ~both_remote,
        feasible=parts["feasible"][0].copy(),
        sector=parts["sector"][0],
        far_tutor=parts["distance_km"][0] > roster.side.limit,
    )


def _feasible_with(changed: Mentee, geo: _Geometry, roster: Roster) -> BoolArray:
    """Feasibility for the mentee with another availability, distance limit, car or remote
    choice (same commune and métiers): the kernel's rule, on the distances already computed."""
    side = roster.side
    far = (geo.distance_km > changed.effective_max_km) | geo.far_tutor
    common = (side.slots & changed.availability) != 0
    return (common & ~far) | (changed.remote_ok & side.remote)


#: Bit of each reason in ``Partition.codes``.
REASON_BITS: Mapping[str, int] = MappingProxyType(
    {code: 1 << i for i, code in enumerate(LEFT_OUT_REASONS)}
)

Holds = Mapping[str, Sequence[int] | IntArray]


def _hold_bits(n: int, holds: Holds | None) -> IntArray:
    """Per tutor, the bits of the reasons the caller stated (code -> indices of the tutors)."""
    bits = np.zeros(n, dtype=np.int64)
    for code, indices in (holds or {}).items():
        if code not in HOLD_REASONS:
            raise ValueError(
                f"unknown hold reason {code!r}; expected one of {sorted(HOLD_REASONS)}"
            )
        where = np.asarray(indices, dtype=np.int64).reshape(-1)
        if where.size and (where.min() < 0 or where.max() >= n):
            raise ValueError(f"hold {code!r} names a tutor outside the roster")
        bits[where] |= REASON_BITS[code]
    return bits


@dataclass(frozen=True)
class Group:
    """Tutors left out for one reason: how many, and the closest ones (indices, nearest first)."""

    reason: str
    label: str
    count: int
    closest: tuple[int, ...]


@dataclass(frozen=True)
class Partition:
    """Every tutor of a roster, either rankable for the mentee or left out with its reasons.

    Attributes
    ----------
    codes : ndarray of int
        Per tutor, the bits (``REASON_BITS``) of every reason that holds; 0 for a tutor who may
        be ranked (feasible, a place left, no hold).
    distance_km : ndarray of float
        Distance from the mentee to each tutor.
    limit_km : ndarray of float
        The smaller of the two effective distance limits, per tutor.
    limit_by_mentee : ndarray of bool
        The mentee's limit is the one that counts (or both are equal).
    groups : tuple of Group
        One per reason that holds for at least one tutor, in ``LEFT_OUT_REASONS`` order; a tutor
        with several reasons is counted in each of its groups.
    """

    codes: IntArray
    distance_km: FloatArray
    limit_km: FloatArray
    limit_by_mentee: BoolArray
    groups: tuple[Group, ...]

    @property
    def rankable(self) -> IntArray:
        """Indices of the tutors who may be ranked, in roster order."""
        return np.flatnonzero(self.codes == 0).astype(np.int64)

    @property
    def left_out(self) -> int:
        return int(np.count_nonzero(self.codes))

    def reasons(self, index: int) -> tuple[str, ...]:
        """The reasons tutor ``index`` is left out (empty if rankable), in display order."""
        bits = int(self.codes[index])
        return tuple(code for code, bit in REASON_BITS.items() if bits & bit)


def partition(
    mentee: Mentee,
    roster: Roster,
    holds: Holds | None = None,
    *,
    closest: int = 3,
) -> Partition:
    """Split a roster into the tutors that may be ranked and those left out, with every reason.

    Parameters
    ----------
    mentee : Mentee
    roster : Roster
    holds : mapping of str to sequence of int, optional
        Reasons known to the caller (a code of ``HOLD_REASONS`` -> indices of the tutors it
        applies to): declined this demande, resting, not validated, paused, incomplete.
    closest : int, default 3
        How many tutors of each group to name, nearest first (ties: roster order).

    Returns
    -------
    Partition
        Each tutor is either rankable or left out with at least one reason, and every reason
        given is true of that tutor.
    """
    if not isinstance(mentee, Mentee):
        raise ValueError(f"expected a Mentee, got {type(mentee).__name__}")
    n = len(roster)
    geo = _geometry(mentee, roster)
    codes = _hold_bits(n, holds)
    codes[roster.full] |= REASON_BITS["full"]
    codes[geo.too_far] |= REASON_BITS["too_far"]
    codes[geo.no_slot] |= REASON_BITS["no_common_slot"]
    groups = []
    for code, label in LEFT_OUT_REASONS.items():
        members = np.flatnonzero(codes & REASON_BITS[code])
        if members.size:
            order = np.lexsort((members, geo.distance_km[members]))[:closest]
            groups.append(Group(code, label, int(members.size), tuple(members[order].tolist())))
    return Partition(
        codes=codes,
        distance_km=geo.distance_km,
        limit_km=np.minimum(mentee.effective_max_km, roster.limits),
        limit_by_mentee=mentee.effective_max_km <= roster.limits,
        groups=tuple(groups),
    )


@dataclass(frozen=True)
class Suggestion:
    """One change to the mentee's profile and how many more tutors it would really bring.

    Attributes
    ----------
    kind : str
        ``"remote"``, ``"distance"``, ``"slot"`` or ``"nearest"`` (information, gain 0).
    field : str
        The profile field to change (``remote_ok``, ``max_km``, ``availability``).
    gain : int
        Tutors who would become rankable, exactly (recomputed with the changed profile).
    text : str
        The suggestion in plain French.
    value : float or int or None
        The distance (km) or the slot bit suggested.
    tutor : int or None
        For ``"nearest"``, the tutor's index.
    """

    kind: str
    field: str
    gain: int
    text: str
    value: float | int | None = None
    tutor: int | None = None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n > 1 else ''}"


def _km(value: float) -> str:
    if value < 10:
        return f"{value:.1f}".replace(".", ",").removesuffix(",0") + " km"
    return f"{round(value)} km"


def diagnose(
    mentee: Mentee,
    roster: Roster,
    holds: Holds | None = None,
    *,
    place_names: Sequence[str] | None = None,
    slots: int = 2,
) -> tuple[Suggestion, ...]:
    """What change to the mentee's profile would bring more tutors, and how many exactly.

    Only tutors with a place left and no hold (refusal, rest, validation, pause) count: a change
    of the mentee's profile cannot bring the others. Each gain is recomputed with the changed
    profile, so no suggestion promises more tutors than the change really yields.

    Parameters
    ----------
    mentee : Mentee
    roster : Roster
    holds : mapping, optional
        As for :func:`partition`.
    place_names : sequence of str, optional
        The name of each tutor's commune, to say where the nearest one lives.
    slots : int, default 2
        How many added slots to suggest at most (the most useful first).

    Returns
    -------
    tuple of Suggestion
        Remote meetings, a longer distance, added slots (each with a gain > 0), then the
        nearest tutor of the same domaine professionnel who is out of reach, if any.
    """
    if not isinstance(mentee, Mentee):
        raise ValueError(f"expected a Mentee, got {type(mentee).__name__}")
    open_ = (_hold_bits(len(roster), holds) == 0) & ~roster.full
    geo = _geometry(mentee, roster)
    base = int((geo.feasible & open_).sum())

    def gain(changed: Mentee) -> int:
        return int((_feasible_with(changed, geo, roster) & open_).sum()) - base

    out: list[Suggestion] = []
    if not mentee.remote_ok:
        g = gain(replace(mentee, remote_ok=True))
        if g > 0:
            out.append(
                Suggestion(
                    "remote",
                    "remote_ok",
                    g,
                    f"Avec des rencontres à distance (téléphone, visio) : {_plural(g, 'tuteur')} "
                    "de plus.",
                )
            )
    # The nearest out-of-reach tutors with a common slot: how far the mentee would have to go.
    reach = open_ & geo.too_far & ~geo.no_slot & (geo.distance_km <= roster.limits)
    if reach.any():
        distances = np.sort(geo.distance_km[reach])
        target = float(math.ceil(distances[min(2, distances.size - 1)]))
        needs_car = not mentee.has_car and target > NO_CAR_MAX_KM
        changed = replace(
            mentee, max_km=max(target, mentee.max_km), has_car=mentee.has_car or needs_car
        )
        g = gain(changed)
        if g > 0:
            how = (
                " (avec une voiture, un covoiturage ou un transport à la demande)"
                if needs_car
                else ""
            )
            out.append(
                Suggestion(
                    "distance",
                    "max_km",
                    g,
                    f"En acceptant de se déplacer jusqu'à {_km(target)}{how} : "
                    f"{_plural(g, 'tuteur')} de plus.",
                    value=target,
                )
            )
    gains = []
    for bit in range(SLOT_COUNT):
        if not mentee.availability >> bit & 1:
            g = gain(replace(mentee, availability=mentee.availability | 1 << bit))
            if g > 0:
                gains.append((-g, bit))
    for neg, bit in sorted(gains)[:slots]:
        out.append(
            Suggestion(
                "slot",
                "availability",
                -neg,
                f"En ajoutant le {slot_label(bit)} : {_plural(-neg, 'tuteur')} de plus.",
                value=bit,
            )
        )
    # The nearest tutor of the same domaine professionnel (or métier) who is out of reach.
    same = open_ & ~geo.feasible & (geo.sector >= 0.6)
    if same.any():
        candidates = np.flatnonzero(same)
        best = int(candidates[np.argmin(geo.distance_km[candidates])])
        where = f" ({place_names[best]})" if place_names is not None else ""
        why = "trop loin" if geo.too_far[best] else "sans moment libre en commun"
        out.append(
            Suggestion(
                "nearest",
                "max_km" if geo.too_far[best] else "availability",
                0,
                f"Le tuteur le plus proche du même domaine professionnel est à "
                f"{_km(float(geo.distance_km[best]))}{where}, {why}.",
                value=float(geo.distance_km[best]),
                tutor=best,
            )
        )
    return tuple(out)
