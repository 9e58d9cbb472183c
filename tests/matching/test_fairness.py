"""matching.fairness: Wilson intervals, Kaplan–Meier medians, groups, and the plain-French gaps."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.fairness import (
    MIN_GROUP,
    Demande,
    audit,
    km_median,
    largest_gaps,
    nearest_town_km,
    wilson_interval,
)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 500), st.integers(0, 500))
def test_wilson_interval_contains_the_proportion(successes, extra):
    n = successes + extra
    lo, hi = wilson_interval(successes, n)
    assert 0.0 <= lo <= hi <= 1.0
    if n:
        assert lo - 1e-12 <= successes / n <= hi + 1e-12


def test_wilson_interval_known_value():
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 200), min_size=1, max_size=50))
def test_without_waiting_demandes_the_median_is_the_plain_one(times):
    expected = sorted(times)[math.ceil(len(times) / 2) - 1]
    assert km_median(times, [1000] * len(times)) == expected


def test_waiting_demandes_push_the_median_up():
    # 4 got a proposal on days 5, 10, 20, 30; 4 still wait after 40 days: half had one by day 30.
    times = [5, 10, 20, 30, None, None, None, None]
    assert km_median(times, [40] * 8) == 30
    # 3 of 8: the median is not reached yet.
    assert km_median([5, 10, 20, None, None, None, None, None], [40] * 8) is None
    # Censored early (only 3 days old), they say little: the median comes from the four known times.
    assert km_median(times, [0, 0, 0, 0, 3, 3, 3, 3]) == 10
    assert km_median([], []) is None


def test_nearest_town():
    # Auch (a town), Pavie next to it, and a village 40 km away.
    dist = nearest_town_km([43.6465, 43.611, 43.95], [0.5855, 0.592, 0.2], [21000, 2600, 150])
    assert dist[0] == 0 and dist[1] == 0
    assert 30 < dist[2] < 60
    assert math.isnan(nearest_town_km([43.0], [0.0], [100])[0])


def _people(n, group, wait, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        got = rng.random() < wait
        out.append(
            Demande(
                groups=(("Voiture", group),),
                age_days=90,
                days_to_proposal=rng.uniform(1, 20) if got else None,
                proposals=1 if got else 0,
            )
        )
    return out


def test_the_audit_finds_who_waits_and_hides_small_groups():
    demandes = _people(200, "Avec voiture", 0.9, 1) + _people(80, "Sans voiture", 0.4, 2)
    demandes += [Demande(groups=(("Canton", "Lectoure"),), age_days=90)] * (MIN_GROUP - 1)
    whole, rows = audit(demandes, ["Voiture", "Canton"])
    assert whole.demandes == 284
    by = {r.group: r for r in rows}
    assert [r.dimension for r in rows] == ["Voiture", "Voiture", "Canton"]
    assert by["Lectoure"].too_small and by["Lectoure"].within_60.value is None
    no_car = by["Sans voiture"]
    assert no_car.within_60.low < no_car.within_60.value < no_car.within_60.high
    assert no_car.ratio("within_60", whole) < 0.7
    gaps = largest_gaps(whole, rows)
    assert len(gaps) == 1 and gaps[0].startswith("Sans voiture (voiture)")
    assert "contre" in gaps[0] and "95 %" in gaps[0]


def test_no_gap_is_reported_between_equal_groups():
    demandes = _people(150, "Avec voiture", 0.7, 3) + _people(150, "Sans voiture", 0.7, 4)
    whole, rows = audit(demandes, ["Voiture"])
    assert largest_gaps(whole, rows) == []
