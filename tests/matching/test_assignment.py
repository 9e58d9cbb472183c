"""assign(): feasible, within capacity, deterministic, and as good as an independent exact reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

import matching
from matching import MatchingInputError, assign, assign_sparse

from .strategies import PROPERTY, mentees, score_problems, tutors

# assign() is exact for scores rounded to 2**-30: totals may differ by n * 2**-31 at most.
TOLERANCE = 1e-7


def reference_optimum(scores: np.ndarray, capacity: np.ndarray) -> tuple[int, float]:
    """Cardinality and total of the lexicographic optimum, by scipy's dense Hungarian method.

    Each tutor's column is repeated once per place. A feasible pair costs -(B + score) with
    B larger than any total score, an infeasible one costs 0 (the same as staying unmatched),
    so minimising the cost maximises first the number of pairs, then the total score.
    """
    n, _ = scores.shape
    columns = np.repeat(np.arange(scores.shape[1]), capacity)
    if n == 0 or columns.size == 0:
        return 0, 0.0
    big = n + 1.0
    cost = np.where(np.isnan(scores), 0.0, -(big + np.nan_to_num(scores)))[:, columns]
    r, c = linear_sum_assignment(cost)
    chosen = scores[r, columns[c]]
    feasible = ~np.isnan(chosen)
    return int(feasible.sum()), float(chosen[feasible].sum())


def check_valid(pairs, scores, capacity):
    n, m = scores.shape
    mentees_ = [i for i, _ in pairs]
    assert mentees_ == sorted(mentees_) and len(set(mentees_)) == len(mentees_)
    for i, j in pairs:
        assert 0 <= i < n and 0 <= j < m
        assert not np.isnan(scores[i, j]), "an infeasible pair was assigned"
    load = np.bincount([j for _, j in pairs], minlength=m)
    assert np.all(load <= capacity), "a tutor's capacity was exceeded"
    assert all(isinstance(i, int) and isinstance(j, int) for i, j in pairs)


@PROPERTY
@given(score_problems())
def test_assign_is_valid_and_optimal(problem):
    scores, capacity = problem
    pairs = assign(scores, capacity)
    check_valid(pairs, scores, capacity)
    count, total = reference_optimum(scores, capacity)
    assert len(pairs) == count
    got = float(sum(scores[i, j] for i, j in pairs))
    assert abs(got - total) <= TOLERANCE


@PROPERTY
@given(score_problems(max_mentees=30, max_tutors=12))
def test_assign_is_optimal_on_larger_instances(problem):
    scores, capacity = problem
    pairs = assign(scores, capacity)
    check_valid(pairs, scores, capacity)
    count, total = reference_optimum(scores, capacity)
    assert len(pairs) == count
    assert abs(sum(scores[i, j] for i, j in pairs) - total) <= TOLERANCE


@PROPERTY
@given(score_problems(max_mentees=12, max_tutors=8))
def test_assign_is_deterministic(problem):
    scores, capacity = problem
    first = assign(scores, capacity)
    assert assign(scores.copy(), capacity.copy()) == first
    if scores.size:
        assert assign(scores.tolist(), capacity.tolist()) == first


@PROPERTY
@given(score_problems(max_mentees=12, max_tutors=8))
def test_assign_sparse_agrees_with_assign(problem):
    scores, capacity = problem
    rows, cols = np.nonzero(~np.isnan(scores))
    pairs = assign_sparse(scores.shape[0], rows, cols, scores[rows, cols], capacity)
    check_valid(pairs, scores, capacity)
    count, total = reference_optimum(scores, capacity)
    assert len(pairs) == count
    assert abs(sum(scores[i, j] for i, j in pairs) - total) <= TOLERANCE


@PROPERTY
@given(st.lists(mentees(), max_size=10), st.lists(tutors(), max_size=6))
def test_assign_on_real_scores_never_uses_an_infeasible_pair_or_a_full_tutor(ms, ts):
    scores = matching.score_matrix(ms, ts)
    capacity = np.array([t.capacity for t in ts], dtype=np.int64)
    pairs = assign(scores, capacity)
    check_valid(pairs, scores, capacity)
    assert len(pairs) == reference_optimum(scores, capacity)[0]


def test_more_places_than_mentees_and_many_forbidden_pairs():
    rng = np.random.default_rng(3)
    scores = rng.random((40, 25))
    scores[rng.random(scores.shape) < 0.8] = np.nan
    capacity = rng.integers(0, 4, 25)
    pairs = assign(scores, capacity)
    check_valid(pairs, scores, capacity)
    count, total = reference_optimum(scores, capacity)
    assert len(pairs) == count and abs(sum(scores[i, j] for i, j in pairs) - total) < TOLERANCE


def test_cardinality_comes_before_score():
    # Mentee 0 likes tutor 0 a lot; but giving tutor 0 to mentee 1 lets both be matched.
    scores = np.array([[1.0, 0.1], [0.2, np.nan]])
    assert assign(scores, [1, 1]) == [(0, 1), (1, 0)]
    assert assign(scores, [2, 1]) == [(0, 0), (1, 0)]


def test_larger_random_instance_matches_reference():
    rng = np.random.default_rng(8)
    scores = np.round(rng.random((300, 90)), 2)  # many ties
    scores[rng.random(scores.shape) < 0.7] = np.nan
    capacity = rng.integers(0, 4, 90)
    pairs = assign(scores, capacity)
    check_valid(pairs, scores, capacity)
    count, total = reference_optimum(scores, capacity)
    assert len(pairs) == count and abs(sum(scores[i, j] for i, j in pairs) - total) < TOLERANCE


@pytest.mark.parametrize(
    ("scores", "capacity", "message"),
    [
        ([0.5, 0.2], [1, 1], "2 dimensions"),
        ([[0.5, 0.2]], [1], "une valeur par tuteur"),
        ([[0.5, 0.2]], [[1, 1]], "une valeur par tuteur"),
        ([[0.5, 1.2]], [1, 1], "entre 0 et 1"),
        ([[0.5, -0.1]], [1, 1], "entre 0 et 1"),
        ([[0.5, np.inf]], [1, 1], "entre 0 et 1"),
        ([[0.5, 0.2]], [1, -1], "de 0 à 3"),
        ([[0.5, 0.2]], [1, 4], "de 0 à 3"),
        ([[0.5, 0.2]], [1, 1.5], "nombres entiers"),
        ([[0.5, 0.2]], [True, False], "nombres entiers"),
        ([["a", 0.2]], [1, 1], "tableau de nombres"),
    ],
)
def test_bad_input_is_refused(scores, capacity, message):
    with pytest.raises(MatchingInputError, match=message):
        assign(scores, capacity)


def test_bad_sparse_input_is_refused():
    with pytest.raises(ValueError, match="plusieurs fois"):
        assign_sparse(2, [0, 0], [1, 1], [0.5, 0.5], [1, 1])
    with pytest.raises(ValueError, match="hors limites"):
        assign_sparse(2, [0, 2], [1, 1], [0.5, 0.5], [1, 1])
    with pytest.raises(ValueError, match="nombre fini entre 0 et 1"):
        assign_sparse(2, [0, 1], [1, 1], [0.5, np.nan], [1, 1])
    with pytest.raises(ValueError, match="même longueur"):
        assign_sparse(2, [0, 1], [1], [0.5, 0.5], [1, 1])
    with pytest.raises(ValueError, match="entier positif ou nul"):
        assign_sparse(-1, [], [], [], [1])


def test_empty_and_all_infeasible():
    assert assign(np.empty((0, 3)), [1, 1, 1]) == []
    assert assign(np.empty((3, 0)), np.empty(0, dtype=int)) == []
    assert assign(np.full((3, 2), np.nan), [1, 1]) == []
    assert assign(np.full((3, 2), 0.5), [0, 0]) == []
    assert assign([[0.0]], [1]) == [(0, 0)]  # a zero score is still a feasible pair


def test_the_fallback_to_all_pairs_gives_the_same_optimum(monkeypatch):
    import matching.assignment as impl

    rng = np.random.default_rng(5)
    scores = np.round(rng.random((60, 20)), 1)
    scores[rng.random(scores.shape) < 0.4] = np.nan
    capacity = rng.integers(0, 3, 20)
    expected = reference_optimum(scores, capacity)
    monkeypatch.setattr(impl, "_MAX_ROUNDS", 1)
    monkeypatch.setattr(impl, "_MENTEE_K", 1)
    monkeypatch.setattr(impl, "_TUTOR_K_MIN", 0)
    monkeypatch.setattr(impl, "_TUTOR_K_PER_PLACE", 0)
    pairs = assign(scores, capacity)
    check_valid(pairs, scores, capacity)
    assert len(pairs) == expected[0]
    assert abs(sum(scores[i, j] for i, j in pairs) - expected[1]) <= TOLERANCE


@settings(max_examples=25, deadline=None)
@given(st.integers(20, 120), st.integers(5, 40), st.integers(0, 10_000), st.booleans())
def test_identical_rankings_and_staircases_reach_the_dense_optimum(n, m, seed, staircase):
    # The families where a fixed "near" band once pulled in every pair (34 times slower than dense).
    rng = np.random.default_rng(seed)
    base = np.round(rng.uniform(0.2, 0.9, size=m), 3)
    scores = np.tile(np.sort(base)[::-1] if staircase else base, (n, 1))
    if staircase:
        reach = (np.arange(n) * m) // n + 1
        scores[np.arange(m)[None, :] >= reach[:, None]] = np.nan
    capacity = rng.integers(0, 4, size=m)
    pairs = matching.assign(scores, capacity)
    columns = np.repeat(np.arange(m), capacity)
    cost = np.where(np.isnan(scores), 0.0, -(n + 1.0) - np.nan_to_num(scores))[:, columns]
    rows, cols = linear_sum_assignment(cost)
    ok = ~np.isnan(scores[rows, columns[cols]])
    assert len(pairs) == int(ok.sum())
    assert sum(scores[i, j] for i, j in pairs) == pytest.approx(
        float(scores[rows[ok], columns[cols][ok]].sum()), abs=1e-6
    )
    assert matching.assign(scores, capacity) == pairs  # deterministic


# --------------------------------------------------------------------------------------------
# The optimality certificate, and the tie rule (issue 18)
# --------------------------------------------------------------------------------------------


@PROPERTY
@given(score_problems(max_mentees=20, max_tutors=10))
def test_certificate_bound_equals_the_objective(problem):
    scores, capacity = problem
    pairs = assign(scores, capacity)
    cert = pairs.certificate
    count, total = reference_optimum(scores, capacity)
    own = sum(int(np.rint(scores[i, j] * matching.SCORE_UNIT)) for i, j in pairs)
    # The dual bound is met exactly: the assignment is proven optimal, and it is the optimum.
    assert cert.pairs == len(pairs) == count == cert.max_pairs
    assert cert.total_units == own
    assert cert.bound_units == own
    assert cert.proven_optimal and cert.gap == 0.0
    assert cert.score_bound is not None and abs(cert.score_bound - total) <= TOLERANCE


def _brute_force_tie_key(scores, capacity, rank):
    """Best (pairs, total in 2**-30 units, tutors first in the tie rule, mentees first) by enumeration."""
    n, m = scores.shape
    q = np.where(np.isnan(scores), -1, np.rint(np.nan_to_num(scores) * matching.SCORE_UNIT))
    best = None
    left = list(capacity)

    def walk(i, key):
        nonlocal best
        if i == n:
            best = key if best is None or key > best else best
            return
        walk(i + 1, key)
        for j in range(m):
            if q[i, j] >= 0 and left[j] > 0:
                left[j] -= 1
                count, total, tutors_, mentees_ = key
                walk(
                    i + 1,
                    (
                        count + 1,
                        total + int(q[i, j]),
                        tutors_ + m - 1 - rank[j],
                        mentees_ + n - 1 - i,
                    ),
                )
                left[j] += 1

    walk(0, (0, 0, 0, 0))
    return best


@PROPERTY
@given(score_problems(max_mentees=5, max_tutors=4), st.randoms(use_true_random=False))
def test_ties_follow_the_documented_rule(problem, random):
    """Among optimal assignments: the tutors first in the tie order (least recently asked), then
    the mentees first in order: checked against every assignment there is."""
    scores, capacity = problem
    n, m = scores.shape
    rank = np.array(random.sample(range(m), m), dtype=np.int64)
    pairs = assign(scores, capacity, tie_order=rank)
    key = (
        len(pairs),
        sum(int(np.rint(scores[i, j] * matching.SCORE_UNIT)) for i, j in pairs),
        sum(m - 1 - int(rank[j]) for _, j in pairs),
        sum(n - 1 - i for i, _ in pairs),
    )
    assert key == _brute_force_tie_key(scores, capacity, rank)


def test_ties_on_identical_rankings_do_not_depend_on_the_graph():
    """Every mentee scores every tutor alike: a great many optima; the rule picks one, the least
    recently asked tutors first, whatever the first candidate graph was."""
    rng = np.random.default_rng(5)
    base = rng.choice([0.4, 0.6, 0.8], size=12)
    scores = np.tile(base, (40, 1))
    capacity = rng.integers(1, 4, size=12)
    rank = rng.permutation(12)
    pairs = assign(scores, capacity, tie_order=rank)
    # Capacities are filled best score first, then by tie rank; the first mentees get them.
    order = np.lexsort((rank, -base))
    expected_tutors = sorted(np.repeat(order, capacity[order])[:40].tolist())
    assert sorted(j for _, j in pairs) == expected_tutors
    assert [i for i, _ in pairs] == list(range(min(40, int(capacity.sum()))))
    assert assign(scores[::-1].copy(), capacity, tie_order=rank) == pairs


def test_bad_tie_order_is_refused():
    with pytest.raises(MatchingInputError, match="Ordre des tuteurs"):
        assign([[0.5, 0.2]], [1, 1], tie_order=[0, 0])
    with pytest.raises(MatchingInputError, match="Ordre des tuteurs"):
        assign([[0.5, 0.2]], [1, 1], tie_order=[0])
    assert matching.tie_order([]).size == 0
