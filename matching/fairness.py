"""Who waits longer? Waiting times and outcomes of demandes by group, with their uncertainty (no I/O).

For each group (a commune size, a distance to the nearest town, no car, no email, an obstacle, a canton) and for
everyone: the share of demandes with a proposal within 30 and 60 days (among demandes at least that old), the median
days to a first proposal and to an active binôme (Kaplan–Meier, so demandes still waiting count as waiting), the
decline and expiry rates of proposals, and the share of ended binômes with a positive outcome; each with its count
and a 95 % Wilson interval, and the ratio to everyone. Groups under 5 demandes give no figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching.geo import haversine_km

__all__ = [
    "MIN_GROUP",
    "Demande",
    "Figure",
    "GroupRow",
    "audit",
    "km_median",
    "largest_gaps",
    "nearest_town_km",
    "wilson_interval",
]

MIN_GROUP = 5  # below this, "moins de 5": no figure that could point at a person


@dataclass(frozen=True)
class Demande:
    """One demande: the groups its person belongs to ((dimension, group) pairs) and what happened to it.

    Days are counted from the demande's creation; ``age_days`` is how old it is today.
    """

    groups: tuple[tuple[str, str], ...]
    age_days: float
    days_to_proposal: float | None = None
    days_to_active: float | None = None
    proposals: int = 0
    declined: int = 0
    expired: int = 0
    ended: int = 0
    positive: int = 0


@dataclass(frozen=True)
class Figure:
    """A proportion (or a median, without interval): its value, out of how many, its 95 % interval."""

    value: float | None
    n: int
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class GroupRow:
    dimension: str
    group: str
    demandes: int
    within_30: Figure
    within_60: Figure
    median_to_proposal: Figure
    median_to_active: Figure
    declined: Figure
    expired: Figure
    positive: Figure

    @property
    def too_small(self) -> bool:
        return self.demandes < MIN_GROUP

    def ratio(self, name: str, whole: GroupRow) -> float | None:
        """This group's figure `name` divided by everyone's (None when either is missing or zero)."""
        mine, theirs = getattr(self, name).value, getattr(whole, name).value
        if mine is None or not theirs:
            return None
        return mine / theirs


def nearest_town_km(
    lat: Sequence[float], lon: Sequence[float], population: Sequence[int], town: int = 2000
) -> np.ndarray:
    """Distance (km) from each commune's centre to the nearest commune of `town` inhabitants or more (0 for one).

    NaN when there is no such commune at all.
    """
    lat_a, lon_a = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    pop = np.asarray(population)
    towns = np.flatnonzero(pop >= town)
    if len(towns) == 0:
        return np.full(len(lat_a), np.nan)
    dist = haversine_km(
        lat_a[:, None], lon_a[:, None], lat_a[towns][None, :], lon_a[towns][None, :]
    )
    return np.asarray(dist).min(axis=1)


def km_median(times: Sequence[float | None], ages: Sequence[float]) -> float | None:
    """Kaplan–Meier median time to an event; a demande without the event is censored at its age.

    None when fewer than half are known to have had the event (the median is not reached yet).
    """
    events = sorted(float(t) for t in times if t is not None)
    censored = sorted(float(a) for t, a in zip(times, ages, strict=True) if t is None)
    at_risk = len(events) + len(censored)
    survival = 1.0
    e = c = 0
    while e < len(events):
        t = events[e]
        while c < len(censored) and censored[c] < t:
            at_risk -= 1
            c += 1
        d = 0
        while e < len(events) and events[e] == t:
            d += 1
            e += 1
        if at_risk <= 0:
            break
        survival *= 1 - d / at_risk
        at_risk -= d
        if survival <= 0.5 + 1e-9:  # 0.6 × 5/6 is 0.5000000000000001 in floating point
            return t
    return None


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % by default); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _share(successes: int, n: int) -> Figure:
    if n <= 0:
        return Figure(None, 0)
    low, high = wilson_interval(successes, n)
    return Figure(successes / n, n, low, high)


def _row(dimension: str, group: str, items: Sequence[Demande]) -> GroupRow:
    old_30 = [d for d in items if d.age_days >= 30]
    old_60 = [d for d in items if d.age_days >= 60]
    proposals = sum(d.proposals for d in items)
    ended = sum(d.ended for d in items)
    ages = [d.age_days for d in items]
    to_prop = km_median([d.days_to_proposal for d in items], ages)
    to_active = km_median([d.days_to_active for d in items], ages)
    return GroupRow(
        dimension=dimension,
        group=group,
        demandes=len(items),
        within_30=_share(
            sum(d.days_to_proposal is not None and d.days_to_proposal <= 30 for d in old_30),
            len(old_30),
        ),
        within_60=_share(
            sum(d.days_to_proposal is not None and d.days_to_proposal <= 60 for d in old_60),
            len(old_60),
        ),
        median_to_proposal=Figure(to_prop, len(items)),
        median_to_active=Figure(to_active, len(items)),
        declined=_share(sum(d.declined for d in items), proposals),
        expired=_share(sum(d.expired for d in items), proposals),
        positive=_share(sum(d.positive for d in items), ended),
    )


def audit(
    demandes: Sequence[Demande], dimensions: Sequence[str]
) -> tuple[GroupRow, list[GroupRow]]:
    """Everyone's row, then one row per group of each dimension (in `dimensions` order, groups by name).

    A group under `MIN_GROUP` demandes keeps its count but its figures are blanked.
    """
    whole = _row("Ensemble", "Toutes les demandes", demandes)
    by_group: dict[tuple[str, str], list[Demande]] = {}
    for d in demandes:
        for key in dict.fromkeys(d.groups):
            by_group.setdefault(key, []).append(d)
    rows = []
    order = {name: i for i, name in enumerate(dimensions)}
    for (dimension, group), items in sorted(
        by_group.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][1])
    ):
        row = _row(dimension, group, items)
        if row.too_small:
            empty = Figure(None, 0)
            row = GroupRow(dimension, group, len(items), *([empty] * 7))
        rows.append(row)
    return whole, rows


def _fr(x: float) -> str:
    """A ratio with 2 decimals, written the French way (0,18)."""
    return f"{x:.2f}".replace(".", ",")


def _pct(x: float) -> str:
    return f"{round(100 * x)} %"


def largest_gaps(whole: GroupRow, rows: Sequence[GroupRow], limit: int = 3) -> list[str]:
    """The largest gaps in plain French: groups whose share of proposals within 60 days is lower than everyone's,
    and whose 95 % interval stays below it (a gap that chance alone does not explain). Empty when none."""
    base = whole.within_60.value
    if base is None:
        return []
    gaps = [
        r
        for r in rows
        if not r.too_small
        and r.within_60.value is not None
        and r.within_60.high is not None
        and r.within_60.high < base
    ]
    gaps.sort(key=lambda r: (r.within_60.value or 0.0) - base)
    out = []
    for r in gaps[:limit]:
        value, low, high = r.within_60.value, r.within_60.low, r.within_60.high
        assert (
            value is not None and low is not None and high is not None
        )  # kept by the filter above
        ratio = value / base if base else math.nan
        group = r.group.split(". ", 1)[-1]
        out.append(
            f"{group} ({r.dimension.lower()}) : {_pct(value)} des demandes reçoivent une proposition en 60 jours, "
            f"contre {_pct(base)} pour l'ensemble (soit {_fr(ratio)} fois ; entre {_pct(low)} et {_pct(high)} avec "
            f"95 % de confiance, sur {r.within_60.n} demandes)."
        )
    return out
