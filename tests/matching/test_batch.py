"""assign_batch / assign_all: from the people, the same optimum as assign(score_matrix(...)), with sound bounds."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import matching

from .strategies import PROPERTY, mentees, tutors, weights
from .test_assignment import TOLERANCE, check_valid, reference_optimum


@PROPERTY
@given(st.lists(mentees(), max_size=10), st.lists(tutors(), max_size=7), weights, st.integers(1, 3))
def test_assign_all_is_the_optimum_over_all_pairs(ms, ts, w, k):
    scores = matching.score_matrix(ms, ts, w)
    capacity = np.array([t.capacity for t in ts], dtype=np.int64)
    pairs = matching.assign_all(ms, ts, w, k=k)
    check_valid(pairs, scores, capacity)
    count, total = reference_optimum(scores, capacity)
    assert len(pairs) == count
    assert abs(sum(scores[i, j] for i, j in pairs) - total) <= TOLERANCE
    # Pair for pair, not only in total: both apply the tie rule (least recently asked first).
    assert pairs == matching.assign(scores, capacity, tie_order=matching.tie_order(ts))


@PROPERTY
@given(
    st.lists(mentees(), min_size=3, max_size=14),
    st.lists(tutors(), min_size=2, max_size=6),
    st.integers(1, 2),
)
def test_assign_all_equals_assign_pair_for_pair_with_many_ties(ms, ts, k):
    """Few distinct people (copies): many equal scores, many optima; the rule picks the same one."""
    ms = [ms[i % 3] for i in range(len(ms))]
    scores = matching.score_matrix(ms, ts)
    capacity = np.array([t.capacity for t in ts], dtype=np.int64)
    expected = matching.assign(scores, capacity, tie_order=matching.tie_order(ts))
    assert matching.assign_all(ms, ts, k=k) == expected
    result = matching.assign_batch(ms, ts, k=k)
    assert result.pairs == expected and result.proven_optimal
    assert result.max_pairs == expected.certificate.max_pairs == len(expected)


@PROPERTY
@given(st.lists(mentees(), max_size=10), st.lists(tutors(), max_size=7), st.integers(1, 2))
def test_first_round_bounds_are_sound(ms, ts, k):
    scores = matching.score_matrix(ms, ts)
    capacity = np.array([t.capacity for t in ts], dtype=np.int64)
    result = matching.assign_batch(ms, ts, k=k, exact=False)
    check_valid(result.pairs, scores, capacity)
    count, total = reference_optimum(scores, capacity)
    assert len(result.pairs) <= count <= result.max_pairs
    assert abs(result.total_score - sum(scores[i, j] for i, j in result.pairs)) <= 1e-9
    if result.score_bound is not None:
        assert count == len(result.pairs)
        assert result.total_score <= total + TOLERANCE
        assert total <= result.score_bound + TOLERANCE
    if result.proven_optimal:
        assert count == len(result.pairs) and abs(result.total_score - total) <= TOLERANCE
    assert not result.history or result.history[0].pairs == len(result.pairs)


def test_a_spread_out_population_with_scarce_places():
    rng = np.random.default_rng(12)
    ms = [
        matching.Mentee(
            id=i,
            lat=43.3 + 2 * rng.random(),
            lon=-0.3 + 3 * rng.random(),
            sectors=(str(rng.choice(["K1302", "J1501", "A1101"])),),
            availability=int(rng.integers(1, 1 << 21)),
            max_km=float(rng.choice([5, 15, 30])),
            has_car=bool(rng.random() < 0.5),
            remote_ok=bool(rng.random() < 0.5),
            obstacles=frozenset(rng.choice(list(matching.OBSTACLES), 2).tolist()),
        )
        for i in range(600)
    ]
    ts = [
        matching.Tutor(
            id=j,
            lat=43.3 + 2 * rng.random(),
            lon=-0.3 + 3 * rng.random(),
            sectors=(str(rng.choice(["K1303", "J1501", "N4101"])),),
            availability=int(rng.integers(1, 1 << 21)),
            max_km=float(rng.choice([10, 30, 40])),
            has_car=bool(rng.random() < 0.7),
            remote_ok=bool(rng.random() < 0.5),
            obstacles=frozenset(rng.choice(list(matching.OBSTACLES), 1).tolist()),
            capacity=int(rng.integers(0, 4)),
        )
        for j in range(150)
    ]
    stages = []
    result = matching.assign_batch(
        ms, ts, k=2, progress=lambda stage, done, total: stages.append((stage, done, total))
    )
    scores = matching.score_matrix(ms, ts)
    capacity = np.array([t.capacity for t in ts])
    count, total = reference_optimum(scores, capacity)
    assert result.proven_optimal and len(result.pairs) == count == result.max_pairs
    assert (
        abs(result.total_score - total) <= TOLERANCE
        and abs(result.score_bound - total) <= TOLERANCE
    )
    assert (
        matching.assign(scores, capacity) == result.pairs
        or abs(sum(scores[i, j] for i, j in matching.assign(scores, capacity)) - total) <= TOLERANCE
    )
    assert stages[0][0] == "candidats" and stages[-1][1] == stages[-1][2]


def test_empty():
    assert matching.assign_all([], []) == []
    result = matching.assign_batch([], [])
    assert result.pairs == [] and result.proven_optimal


@PROPERTY
@given(
    st.lists(mentees(), max_size=10),
    st.lists(tutors(), max_size=6),
    st.sampled_from([0.0, 0.2, 0.4, 0.5, 0.7, 1.0]),
)
def test_a_minimum_score_makes_no_pair_below_it(ms, ts, floor):
    """No pair under the minimum, not even to match one more mentee; batch and matrix agree."""
    scores = matching.score_matrix(ms, ts)
    capacity = np.array([t.capacity for t in ts], dtype=np.int64)
    masked = np.where(scores < floor, np.nan, scores)
    expected = matching.assign(masked, capacity, tie_order=matching.tie_order(ts))
    assert all(scores[i, j] >= floor for i, j in expected)
    assert matching.assign(scores, capacity, min_score=floor) == matching.assign(masked, capacity)
    assert matching.assign_all(ms, ts, min_score=floor) == expected
    count, _total = reference_optimum(masked, capacity)
    assert len(expected) == count


def test_a_minimum_score_is_checked():
    import pytest

    for bad in (-0.1, 1.5, float("nan"), "0.5", True):
        with pytest.raises(matching.MatchingInputError, match="Score minimum"):
            matching.assign([[0.5]], [1], min_score=bad)  # type: ignore[arg-type]
        with pytest.raises(matching.MatchingInputError, match="Score minimum"):
            matching.assign_batch([], [], min_score=bad)  # type: ignore[arg-type]
