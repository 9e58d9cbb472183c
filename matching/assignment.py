"""Capacity-aware assignment: most mentees matched first, then the highest total score, proven optimal.

How it works (see README.md for the plain-French version):

1. Scores are turned into integers ``q = round(score * 2**30)``, so that every later step is
   exact integer arithmetic (the optimum found is exact for the scores rounded to about 1e-9).
2. A small *candidate graph* is taken from the score matrix: the best few tutors of every
   mentee and the best few mentees of every tutor.
3. The assignment problem on that graph is solved exactly by scipy's sparse
   Jonker-Volgenant algorithm (LAPJVsp), each tutor being repeated once per place, with one
   dummy "unmatched" column per row whose cost is larger than any total of real costs, so
   that matching one more mentee always beats any gain in score.
4. Linear-programming duals of that solution are computed exactly (Bellman-Ford shortest
   paths on the difference constraints of complementary slackness). They prove optimality
   on the candidate graph; if every pair of the *full* matrix also satisfies the dual
   constraints, the solution is optimal for the full matrix. Pairs that break them are added
   to the graph and the problem is solved again (in practice zero to three extra rounds).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import maximum_bipartite_matching, min_weight_full_bipartite_matching

from .errors import MatchingInputError
from .types import MAX_CAPACITY, Tutor

__all__ = ["Assignment", "Certificate", "assign", "assign_sparse", "tie_order"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: Scores are compared as integers in units of 2**-30.
SCORE_UNIT = 1 << 30
# Best tutors kept per mentee, and best mentees kept per tutor place, in the first graph.
_MENTEE_K = 8
_TUTOR_K_PER_PLACE = 6
_TUTOR_K_MIN = 12
_ROW_BLOCK = 256
# Once some pairs break the duals, pairs within this score of breaking them join too.
_NEAR = 0.03
# ... but at most this many per mentee and per tutor in one round (see _violations).
_NEAR_PER_PERSON = 8
# Scores differ by at least 2**-30 once quantised: a jitter far below changes no real order.
_JITTER = 1e-12
# Rounds of candidate graphs before falling back to the whole matrix.
_MAX_ROUNDS = 8
_INF = np.int64(1) << np.int64(62)


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _check_scores(scores: ArrayLike) -> FloatArray:
    try:
        s = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MatchingInputError(f"Les scores sont un tableau de nombres : {exc}") from None
    if s.ndim != 2:
        raise MatchingInputError(
            f"Les scores sont un tableau à 2 dimensions (bénéficiaires × tuteurs), pas de forme {s.shape}."
        )
    if s.size:
        low = np.fmin.reduce(s, axis=None)
        high = np.fmax.reduce(s, axis=None)
        if not np.isnan(low) and not (low >= 0.0 and high <= 1.0):
            bad = np.argwhere(~np.isnan(s) & ~((s >= 0.0) & (s <= 1.0)))[0]
            raise MatchingInputError(
                f"Un score est entre 0 et 1 (ou nan : binôme impossible), pas {s[tuple(bad)]!r} "
                f"(case {tuple(int(b) for b in bad)})."
            )
    return s


def _check_capacity(capacity: ArrayLike, m: int) -> IntArray:
    cap = np.asarray(capacity)
    if cap.ndim != 1 or cap.shape[0] != m:
        raise MatchingInputError(
            f"Places libres : une valeur par tuteur ({m}) est attendue, pas un tableau de forme {cap.shape}."
        )
    if cap.dtype == np.bool_:
        ok = False
    elif np.issubdtype(cap.dtype, np.integer):
        ok = True
    elif np.issubdtype(cap.dtype, np.floating):
        ok = bool(np.all(np.isfinite(cap)) and np.all(cap == np.round(cap)))  # 2.0 means 2
    elif cap.dtype == object:
        ok = all(isinstance(c, numbers.Integral) and not isinstance(c, bool) for c in cap)
    else:
        ok = False
    if not ok:
        raise MatchingInputError(
            f"Places libres : des nombres entiers de 0 à {MAX_CAPACITY} sont attendus, pas des valeurs {cap.dtype}."
        )
    result = cap.astype(np.int64)
    wrong = (result < 0) | (result > MAX_CAPACITY)
    if np.any(wrong):
        j = int(np.flatnonzero(wrong)[0])
        raise MatchingInputError(
            f"Places libres : de 0 à {MAX_CAPACITY} (un tuteur accompagne 1 à 3 personnes) ; le tuteur {j} en a {result[j]}."
        )
    return result


# --------------------------------------------------------------------------------------------
# The exact solver on a sparse graph
# --------------------------------------------------------------------------------------------


def _solve_graph(
    n: int,
    m: int,
    cap: IntArray,
    rows: IntArray,
    cols: IntArray,
    q: IntArray,
    unit: int = SCORE_UNIT,
) -> IntArray:
    """Lexicographic optimum (cardinality, then total q) on the given edges.

    Returns the tutor of each mentee, -1 when unmatched. ``rows``/``cols`` must be unique pairs
    of tutors with a positive capacity; ``q`` integers in ``[0, unit]``.
    """
    tutor_of = np.full(n, -1, dtype=np.int64)
    if rows.size == 0:
        return tutor_of
    # Only people with at least one edge take part; tutors get one column per place.
    mentees, r = np.unique(rows, return_inverse=True)
    tutors, c = np.unique(cols, return_inverse=True)
    places = cap[tutors]
    first_place = np.concatenate([[0], np.cumsum(places)[:-1]])
    n_places = int(places.sum())
    rep = places[c]
    total = int(rep.sum())
    edge = np.repeat(np.arange(r.size), rep)
    offset = np.arange(total) - np.repeat(np.cumsum(rep) - rep, rep)
    place = first_place[c][edge] + offset
    place_owner = np.repeat(tutors, places)
    # Costs are positive integers held exactly in float64: (1 + UNIT) - q in [1, 1 + UNIT].
    cost = (unit + 1 - q[edge]).astype(np.float64)
    if n_places <= mentees.size:
        a_idx, b_idx, n_a, n_b = place, r[edge], n_places, mentees.size
    else:
        a_idx, b_idx, n_a, n_b = r[edge], place, mentees.size, n_places
    graph = sp.csr_array((cost, (a_idx, b_idx)), shape=(n_a, n_b))
    if int(np.count_nonzero(maximum_bipartite_matching(graph, perm_type="column") >= 0)) < n_a:
        # Not every row can be matched: give each row a dummy column whose cost exceeds any
        # possible total of real costs, so that one more real match always wins.
        dummy = float((n_a + 1) * (unit + 1))
        if dummy * 4 >= 2.0**53:
            raise MatchingInputError("Problème trop grand pour un calcul exact.")
        graph = sp.csr_array(
            (
                np.concatenate([cost, np.full(n_a, dummy)]),
                (
                    np.concatenate([a_idx, np.arange(n_a)]),
                    np.concatenate([b_idx, n_b + np.arange(n_a)]),
                ),
            ),
            shape=(n_a, n_b + n_a),
        )
    a_match, b_match = min_weight_full_bipartite_matching(graph)
    real = b_match < n_b
    a_match, b_match = a_match[real], b_match[real]
    if n_places <= mentees.size:
        tutor_of[mentees[b_match]] = place_owner[a_match]
    else:
        tutor_of[mentees[a_match]] = place_owner[b_match]
    return tutor_of


def _duals(
    n: int,
    m: int,
    cap: IntArray,
    rows: IntArray,
    cols: IntArray,
    q: IntArray,
    tutor_of: IntArray,
    unit: int = SCORE_UNIT,
) -> tuple[IntArray, IntArray]:
    """Exact duals proving that ``tutor_of`` is optimal on the edges given.

    With ``w = B + q`` (B larger than any total of q, so that cardinality comes first), the
    dual of max sum(w x) s.t. each mentee once and each tutor j at most cap[j] times is
    min sum(u) + sum(cap v) with u_i + v_j >= w_ij, u, v >= 0. Complementary slackness fixes
    u_i = w_i,t(i) - v_t(i) for matched mentees, u_i = 0 for unmatched ones and v_j = 0 for
    tutors with a free place; what remains is a system of difference constraints on v, solved
    by Bellman-Ford. Returns ``(a, v)`` with ``a_i = u_i - B`` so that an edge is dual-feasible
    iff ``q_ij <= a_i + v_j``.
    """
    big = np.int64(n + 2) * np.int64(unit)
    matched = tutor_of >= 0
    load = np.bincount(tutor_of[matched], minlength=m)
    own = tutor_of[rows] == cols
    q_own = np.zeros(n, dtype=np.int64)
    q_own[rows[own]] = q[own]
    z = m  # the node fixed at 0
    is_matched = matched[rows]
    e1 = is_matched & ~own
    e2 = ~is_matched
    mi = np.flatnonzero(matched)
    free = np.flatnonzero((load < cap) & (cap > 0))
    tails = np.concatenate(
        [cols[e1], cols[e2], np.full(mi.size, z), np.arange(m), np.full(free.size, z)]
    )
    heads = np.concatenate(
        [tutor_of[rows[e1]], np.full(int(e2.sum()), z), tutor_of[mi], np.full(m, z), free]
    )
    weights = np.concatenate(
        [
            q_own[rows[e1]] - q[e1],  # v_t(i) - v_j <= q_i,t(i) - q_ij
            -(big + q[e2]),  # unmatched mentee: v_j >= B + q_ij
            big + q_own[mi],  # u_i >= 0: v_t(i) <= B + q_i,t(i)
            np.zeros(m, dtype=np.int64),  # v_j >= 0
            np.zeros(free.size, dtype=np.int64),  # a free place: v_j <= 0
        ]
    )
    order = np.argsort(heads, kind="stable")
    tails, heads, weights = tails[order], heads[order], weights[order]
    targets, starts = np.unique(heads, return_index=True)
    dist = np.full(m + 1, _INF, dtype=np.int64)
    dist[z] = 0
    for _ in range(m + 2):
        from_tail = dist[tails]
        candidate = np.where(from_tail >= _INF, _INF, from_tail + weights)
        best = np.minimum(dist[targets], np.minimum.reduceat(candidate, starts))
        if np.array_equal(best, dist[targets]):
            break
        dist[targets] = best
    else:  # pragma: no cover - would mean the solver returned a non-optimal answer
        raise RuntimeError("internal error: the assignment could not be proven optimal")
    v = dist[:m]
    a = np.where(matched, q_own - v[np.maximum(tutor_of, 0)], -big)
    return a, v


def _pairs(tutor_of: IntArray) -> list[tuple[int, int]]:
    mentees = np.flatnonzero(tutor_of >= 0)
    return [(int(i), int(tutor_of[i])) for i in mentees]


def _quantise(values: FloatArray) -> IntArray:
    return np.rint(values * SCORE_UNIT).astype(np.int64)


@dataclass(frozen=True)
class Certificate:
    """How good an assignment is, proven by a feasible solution of the dual linear programme.

    With ``B`` the weight of one more pair (larger than any total of scores), every assignment
    has ``B * (number of pairs) + (total score) <= bound``: so no assignment matches more than
    ``max_pairs`` mentees, nor, with as many pairs as this one, scores more than ``score_bound``.
    When the bound is met, the assignment is optimal: « optimum prouvé ». Scores are counted in
    units of ``2**-30`` (exact integers).

    Attributes
    ----------
    pairs : int
        Pairs of the assignment.
    total_units, bound_units : int
        Its total score, and the proven bound on the total score of any assignment with as
        many pairs, in units of ``2**-30``; ``bound_units`` is None when ``max_pairs > pairs``.
    max_pairs : int
        Proven upper bound on the number of pairs of any assignment.
    """

    pairs: int
    total_units: int
    max_pairs: int
    bound_units: int | None

    @property
    def total_score(self) -> float:
        return self.total_units / SCORE_UNIT

    @property
    def score_bound(self) -> float | None:
        return None if self.bound_units is None else self.bound_units / SCORE_UNIT

    @property
    def proven_optimal(self) -> bool:
        """No assignment matches more mentees, nor as many with a higher total score."""
        return self.max_pairs == self.pairs and self.bound_units == self.total_units

    @property
    def gap(self) -> float | None:
        """``(score_bound - total_score) / score_bound``: the most that is left to gain (0 when proven)."""
        if self.bound_units is None:
            return None
        if self.bound_units <= 0:
            return 0.0
        return max(0.0, (self.bound_units - self.total_units) / self.bound_units)


def _certificate(
    n: int, cap: IntArray, q_own: int, pairs: int, a: IntArray, v: IntArray, unit: int = SCORE_UNIT
) -> Certificate:
    """The dual objective of ``(a, v)`` (see :func:`_duals`), which must cover every feasible pair."""
    big = (n + 2) * unit
    u_sum = sum(max(int(x) + big, 0) for x in a.tolist())
    v_sum = sum(int(c) * int(x) for c, x in zip(cap.tolist(), v.tolist(), strict=True) if c > 0)
    bound = u_sum + v_sum
    max_pairs = bound // big
    return Certificate(pairs, q_own, max_pairs, bound - big * pairs if max_pairs == pairs else None)


class Assignment(list[tuple[int, int]]):
    """The ``(mentee, tutor)`` pairs (a list), with their optimality :class:`Certificate`."""

    certificate: Certificate

    def __init__(self, pairs: list[tuple[int, int]], certificate: Certificate) -> None:
        super().__init__(pairs)
        self.certificate = certificate


def tie_order(tutors: object) -> IntArray:
    """Rank of each tutor in the documented tie rule (0 comes first).

    At equal score, the tutor asked least recently comes first (never asked: first of all), then
    the one registered first (smaller id). ``tutors`` is a sequence of :class:`matching.Tutor`.
    """
    people = list(tutors)  # type: ignore[call-overload]
    for t in people:
        if not isinstance(t, Tutor):
            raise MatchingInputError(f"Des tuteurs (Tutor) sont attendus, pas {type(t).__name__}.")
    last = np.array([-np.inf if t.last_asked is None else t.last_asked for t in people])
    ids = np.array([t.id for t in people], dtype=np.int64)
    return _tie_rank(ids, last)


def _tie_rank(ids: IntArray, last_asked: FloatArray) -> IntArray:
    """Rank of each tutor: never or least recently asked first, then the smaller id."""
    order = np.lexsort((np.arange(ids.size), ids, last_asked))
    rank = np.empty(ids.size, dtype=np.int64)
    rank[order] = np.arange(ids.size)
    return rank


def _check_tie_order(order: ArrayLike | None, m: int) -> IntArray:
    if order is None:
        return np.arange(m, dtype=np.int64)
    rank = np.asarray(order)
    if (
        rank.shape != (m,)
        or not np.issubdtype(rank.dtype, np.integer)
        or not np.array_equal(np.sort(rank), np.arange(m))
    ):
        raise MatchingInputError(
            f"Ordre des tuteurs à égalité : les rangs 0 à {m - 1}, chacun une fois, sont attendus."
        )
    return rank.astype(np.int64)


def _break_ties(
    n: int,
    m: int,
    cap: IntArray,
    rows: IntArray,
    cols: IntArray,
    tutor_of: IntArray,
    a: IntArray,
    v: IntArray,
    rank: IntArray,
) -> IntArray:
    """Among the optimal assignments, the one the tie rule chooses (the same whatever the solver saw).

    ``rows, cols`` are every *tight* feasible pair of the whole problem (``q_ij = a_i + v_j``)
    for optimal duals ``(a, v)``: every optimal assignment uses only those pairs, matches every
    mentee whose dual is positive and fills every tutor whose dual is positive, and any
    assignment that does so is optimal. Three more problems are solved in turn on these pairs,
    each keeping the optimal set of the previous one exactly in the same way: prefer (1) the
    tutors first in the tie rule (``rank``: least recently asked first), then (2) the mentees
    first in order (the oldest demande), then (3) a fixed scramble of the pairs, so that the
    answer does not depend on which optimal assignment the solver found first.
    """
    unit = SCORE_UNIT
    if int(np.count_nonzero(tutor_of >= 0)) == rows.size:
        return tutor_of  # every tight pair is used: this optimum is the only one
    mentees_in = np.unique(rows).size
    for stage in range(3):
        must_mentee = (a + np.int64(n + 2) * np.int64(unit)) > 0
        must_tutor = v > 0
        if stage == 0:
            tie = (m - 1 - rank)[cols]
            top = m - 1
        elif stage == 1:
            tie = n - 1 - rows
            top = n - 1
        else:
            room = (1 << 49) // ((n + 2) * (2 * mentees_in + 3))
            top = int(max(1, min(1 << 24, room))) - 1
            tie = _scramble(rows, cols) % (top + 1)
        step = mentees_in * top + 1  # more than any total of `tie`
        q = step * (must_mentee[rows].astype(np.int64) + must_tutor[cols]) + tie
        unit = 2 * step + top
        tutor_of, a, v = _solve_proven(n, m, cap, rows, cols, q, unit, tutor_of)
        tight = q == a[rows] + v[cols]
        rows, cols = rows[tight], cols[tight]
        if int(np.count_nonzero(tutor_of >= 0)) == rows.size:
            break
    return tutor_of


def _solve_proven(
    n: int,
    m: int,
    cap: IntArray,
    rows: IntArray,
    cols: IntArray,
    q: IntArray,
    unit: int,
    seed: IntArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """Optimum (cardinality, then total q) over the sparse edges given, with duals covering them all.

    As :func:`assign` does on a matrix: solve on a small part of the edges (each mentee's and each
    tutor's best few, and the pairs of ``seed``), check every edge against the duals, add those
    that break them, again until none does. When every mentee scores every tutor alike, the edges
    given may be all the pairs there are; the part solved stays small.
    """
    taken = np.zeros(rows.size, dtype=bool)
    taken[np.flatnonzero(seed[rows] == cols)] = True
    per_tutor = _tutor_quota(cap)[cols]
    order = np.lexsort((_scramble(rows, cols), -q, cols))
    rank = np.arange(cols.size) - np.searchsorted(cols[order], cols[order], side="left")
    taken[order[rank < per_tutor[order]]] = True
    taken |= _top_per_group(rows, q, _MENTEE_K, rows, cols)
    for round_number in range(1, _MAX_ROUNDS + 2):
        r, c, qq = rows[taken], cols[taken], q[taken]
        tutor_of = _solve_graph(n, m, cap, r, c, qq, unit)
        a, v = _duals(n, m, cap, r, c, qq, tutor_of, unit)
        slack = q - (a[rows] + v[cols])
        bad = np.flatnonzero(slack > 0)
        if bad.size == 0:
            return tutor_of, a, v
        if round_number >= _MAX_ROUNDS:
            taken[:] = True
            continue
        if bad.size > _NEAR_PER_PERSON * (n + m):
            keep = _top_per_group(rows[bad], slack[bad], _NEAR_PER_PERSON, rows[bad], cols[bad])
            keep |= _top_per_group(cols[bad], slack[bad], _NEAR_PER_PERSON, rows[bad], cols[bad])
            bad = bad[keep]
        taken[bad] = True
    raise RuntimeError("internal error: ties could not be broken")  # pragma: no cover


def _at_least(s: FloatArray, left: FloatArray, right: FloatArray) -> tuple[IntArray, IntArray]:
    """Pairs (i, j) with ``s[i, j] >= left[i] + right[j]``, read by blocks of rows so that the
    comparison never holds a whole n × m boolean matrix in memory."""
    found_r: list[IntArray] = []
    found_c: list[IntArray] = []
    for r0 in range(0, s.shape[0], _ROW_BLOCK):
        block = s[r0 : r0 + _ROW_BLOCK]
        r, c = np.nonzero(block >= left[r0 : r0 + _ROW_BLOCK, None] + right[None, :])
        found_r.append(r + r0)
        found_c.append(c)
    return np.concatenate(found_r), np.concatenate(found_c)


def _tight(
    s: FloatArray, a: IntArray, v: IntArray, usable: NDArray[np.bool_]
) -> tuple[IntArray, IntArray]:
    """Feasible pairs of the full matrix with ``q_ij = a_i + v_j`` (the duals cover every pair)."""
    right = np.where(usable, (v.astype(np.float64) - 0.5) / SCORE_UNIT, np.inf)
    left = a.astype(np.float64) / SCORE_UNIT
    rows, cols = _at_least(s, left, right)
    exact = _quantise(s[rows, cols]) == a[rows] + v[cols]
    return rows[exact], cols[exact]


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def check_min_score(min_score: float | None) -> float | None:
    """``None`` (no minimum) or a finite number in [0, 1]; MatchingInputError otherwise."""
    if min_score is None:
        return None
    if isinstance(min_score, bool) or not isinstance(min_score, numbers.Real):
        raise MatchingInputError(f"Score minimum : un nombre est attendu, pas {min_score!r}.")
    value = float(min_score)
    if not (0.0 <= value <= 1.0):  # nan fails too
        raise MatchingInputError(f"Score minimum : entre 0 et 1, pas {min_score!r}.")
    return value


def assign(
    scores: ArrayLike,
    capacity: ArrayLike,
    tie_order: ArrayLike | None = None,
    min_score: float | None = None,
) -> Assignment:
    """Optimal assignment of mentees to tutors.

    Parameters
    ----------
    scores : array_like, shape (n_mentees, n_tutors)
        Score in [0, 1] of each pair, ``nan`` where the pair is infeasible (as returned by
        :func:`matching.score_matrix`).
    capacity : array_like of int, shape (n_tutors,)
        Places left of each tutor, 0 to 3.
    tie_order : array_like of int, shape (n_tutors,), optional
        Rank of each tutor in the tie rule (0 first), as :func:`tie_order` gives it from the
        tutors (least recently asked first). Without it, ties are not broken by the rule: the
        answer is still optimal and deterministic, but it is whichever optimum the solver met
        first (cheaper when a great many assignments tie, as when every mentee ranks the
        tutors alike).
    min_score : float in [0, 1], optional
        A pair scoring less is never made, not even to match one more mentee (as if infeasible).

    Returns
    -------
    Assignment
        A list of ``(mentee index, tutor index)`` pairs sorted by mentee: each mentee at most
        once, each tutor at most ``capacity[j]`` times, never an infeasible pair. Among all such
        assignments it has the largest number of pairs and, among those, the largest total
        score (exact for scores rounded to ``2**-30``); among those, with ``tie_order``, the tie
        rule decides: the tutors first in ``tie_order``, then the mentees first in order, then
        a fixed scramble of the pairs.
        Its ``certificate`` (:class:`Certificate`) proves it. The same input gives the same
        answer, and :func:`matching.assign_all` gives it too, pair for pair.

    Raises
    ------
    MatchingInputError
        (a ``ValueError``) Wrong shapes, a score outside [0, 1] (or infinite), a capacity
        outside 0–3 or not an integer, a tie order that is not a ranking.
    """
    s = _check_scores(scores)
    n, m = s.shape
    cap = _check_capacity(capacity, m)
    floor = check_min_score(min_score)
    if floor is not None and floor > 0.0:
        s = np.where(s < floor, np.nan, s)
    rank = None if tie_order is None else _check_tie_order(tie_order, m)
    if n == 0 or m == 0:
        return Assignment([], Certificate(0, 0, 0, 0))
    # Pairs with a tutor without places can never be used.
    usable = cap > 0
    rows, cols = _initial_graph(s, cap)
    for round_number in range(1, _MAX_ROUNDS + 2):
        q = _quantise(s[rows, cols])
        tutor_of = _solve_graph(n, m, cap, rows, cols, q)
        a, v = _duals(n, m, cap, rows, cols, q, tutor_of)
        new_rows, new_cols = _violations(s, a, v, usable)
        if new_rows.size == 0:
            matched = np.flatnonzero(tutor_of >= 0)
            own = int(_quantise(s[matched, tutor_of[matched]]).sum())
            certificate = _certificate(n, cap, own, int(matched.size), a, v)
            if rank is not None:
                tight_rows, tight_cols = _tight(s, a, v, usable)
                tutor_of = _break_ties(n, m, cap, tight_rows, tight_cols, tutor_of, a, v, rank)
            return Assignment(_pairs(tutor_of), certificate)
        if round_number >= _MAX_ROUNDS:
            # Safety net, never needed in practice: all feasible pairs, then it is proven.
            new_rows, new_cols = np.nonzero(~np.isnan(s) & usable[None, :])
        rows = np.concatenate([rows, new_rows])
        cols = np.concatenate([cols, new_cols])
        key = np.unique(rows * m + cols)
        rows, cols = key // m, key % m
    raise RuntimeError(
        "internal error: the assignment could not be proven optimal"
    )  # pragma: no cover


class _TopPerColumn:
    """The best entries of each column (tutor), gathered over blocks of rows.

    Keeps at least ``keep[j]`` entries of column j (all those tied with the last one too);
    an entry below the current cut of its column is not even collected.
    """

    def __init__(self, keep: IntArray) -> None:
        self.keep = keep
        self.floor = np.where(keep > 0, -np.inf, np.inf)
        self.primed = False
        self.rows: list[IntArray] = [np.empty(0, dtype=np.int64)]
        self.cols: list[IntArray] = [np.empty(0, dtype=np.int64)]
        self.scores: list[FloatArray] = [np.empty(0, dtype=np.float64)]
        self.size = 0

    def add(self, rows: IntArray, columns: IntArray, block: FloatArray) -> None:
        """Offer a block of scores (rows x columns, nan where infeasible)."""
        keep = self.keep[columns]
        most = int(keep.max()) if keep.size else 0
        if not self.primed and 0 < most <= block.shape[0]:
            self.primed = True
            # No cut yet for some columns: this block's own keep[j]-th best is a safe cut
            # (the final keep[j]-th best can only be higher), so that little is collected.
            top = -np.partition(-np.ascontiguousarray(block.T), most - 1, axis=1)[:, :most]
            top.sort(axis=1)  # ascending, nan last
            count = np.count_nonzero(~np.isnan(top), axis=1)
            at = np.clip(count - keep, 0, most - 1)
            cut = top[np.arange(columns.size), at]
            cut = np.where((count < keep) | (keep == 0), -np.inf, cut)
            self.floor[columns] = np.maximum(self.floor[columns], cut)
        r, c = np.nonzero(block >= self.floor[columns][None, :])
        self.rows.append(rows[r])
        self.cols.append(columns[c])
        self.scores.append(block[r, c])
        self.size += r.size
        if self.size > 4 * int(self.keep.sum()) + 1024:
            self._prune()

    def _prune(self) -> None:
        pr, pc, ps = (
            np.concatenate(self.rows),
            np.concatenate(self.cols),
            np.concatenate(self.scores),
        )
        # Ties broken by a fixed scramble of (mentee, tutor), not by mentee index: when every
        # mentee scores a tutor the same, each tutor must not bring the same first mentees.
        order = np.lexsort((pr, _scramble(pr, pc), -ps, pc))
        pr, pc, ps = pr[order], pc[order], ps[order]
        rank = np.arange(pc.size) - np.searchsorted(pc, pc, side="left")
        kept = rank < self.keep[pc]
        pr, pc, ps, rank = pr[kept], pc[kept], ps[kept], rank[kept]
        last = rank == self.keep[pc] - 1
        self.floor[pc[last]] = ps[last]
        self.rows, self.cols, self.scores, self.size = [pr], [pc], [ps], pr.size

    def result(self) -> tuple[IntArray, IntArray, FloatArray]:
        self._prune()
        return self.rows[0], self.cols[0], self.scores[0]


def _tutor_quota(cap: IntArray) -> IntArray:
    """How many of its best mentees each tutor brings to the first graph."""
    return np.where(cap > 0, np.maximum(_TUTOR_K_MIN, _TUTOR_K_PER_PLACE * cap), 0)


def _initial_graph(s: FloatArray, cap: IntArray) -> tuple[IntArray, IntArray]:
    """Best few tutors of each mentee and best few mentees of each tutor (feasible, usable)."""
    n, m = s.shape
    k = min(_MENTEE_K, m)
    found_r: list[IntArray] = []
    found_c: list[IntArray] = []
    per_tutor = _TopPerColumn(_tutor_quota(cap))
    all_columns = np.arange(m)
    for r0 in range(0, n, _ROW_BLOCK):
        block = s[r0 : r0 + _ROW_BLOCK]
        # For choosing the graph only (the solver uses the exact scores): a tiny fixed jitter
        # breaks exact ties, as when every mentee ranks tutors alike; otherwise every tutor would
        # bring the same first mentees and the tied entries would all be collected.
        rr = np.arange(r0, r0 + block.shape[0])[:, None]
        block = block + (_JITTER / 2.0**63) * _scramble(rr, all_columns[None, :])
        if k < m:
            # Any k best will do (ties at the cut need not be complete): nan sort last.
            c = np.argpartition(np.negative(block), k - 1, axis=1)[:, :k].ravel()
            r = np.repeat(np.arange(block.shape[0]), k)
            ok = ~np.isnan(block[r, c])
            r, c = r[ok], c[ok]
        else:
            r, c = np.nonzero(~np.isnan(block))
        found_r.append(r + r0)
        found_c.append(c)
        per_tutor.add(np.arange(r0, r0 + block.shape[0]), all_columns, block)
    pr, pc, _ = per_tutor.result()
    rows = np.concatenate([*found_r, pr])
    cols = np.concatenate([*found_c, pc])
    ok = cap[cols] > 0
    key = np.unique(rows[ok] * m + cols[ok])
    return key // m, key % m


def _violations(
    s: FloatArray, a: IntArray, v: IntArray, usable: NDArray[np.bool_]
) -> tuple[IntArray, IntArray]:
    """Feasible pairs of the full matrix that break the dual constraints ``q_ij <= a_i + v_j``.

    When there are some, the pairs that come within ``_NEAR`` of breaking them are returned
    too: they are likely to matter in the next round, and adding them saves rounds. A float
    pre-filter (exact: all quantities are multiples of 2**-31 well inside float64's 53 bits)
    finds a superset, then the integer test decides.
    """
    n = s.shape[0]
    near = int(_NEAR * SCORE_UNIT)
    right = np.where(usable, (v.astype(np.float64) + 0.5) / SCORE_UNIT, np.inf)
    # First, does any pair break the duals at all (usually none: the answer is proven)?
    strict = a.astype(np.float64) / SCORE_UNIT
    if not any(
        np.any(s[r0 : r0 + _ROW_BLOCK] >= strict[r0 : r0 + _ROW_BLOCK, None] + right[None, :])
        for r0 in range(0, n, _ROW_BLOCK)
    ):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    left = (a - near).astype(np.float64) / SCORE_UNIT
    rows, cols = _at_least(s, left, right)
    slack = _quantise(s[rows, cols]) - (a[rows] + v[cols])
    if not np.any(slack > 0):
        return rows[:0], cols[:0]
    close = slack > -near
    rows, cols, slack = rows[close], cols[close], slack[close]
    # When mentees rank tutors alike, the band holds nearly every pair and the next round would
    # solve the whole matrix sparsely (34 times slower than a dense solver): keep only, for each
    # mentee and for each tutor, the `_NEAR_PER_PERSON` pairs that break (or come closest to
    # breaking) the duals most. Optimality does not depend on it: the next round checks every
    # pair of the matrix again. Per tutor matters: when everyone ranks tutors alike, every tutor
    # must meet an unmatched mentee for its dual to be set.
    if rows.size > _NEAR_PER_PERSON * (n + s.shape[1]):
        keep = _top_per_group(rows, slack, _NEAR_PER_PERSON, rows, cols) | _top_per_group(
            cols, slack, _NEAR_PER_PERSON, rows, cols
        )
        rows, cols = rows[keep], cols[keep]
    return rows, cols


def _scramble(rows: IntArray, cols: IntArray) -> IntArray:
    """A fixed pseudo-random tie-break key for pairs (deterministic: the same input, the same answer)."""
    h = rows.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + cols.astype(np.uint64)
    h ^= h >> np.uint64(31)
    h *= np.uint64(0xBF58476D1CE4E5B9)  # splitmix64's mixing: neighbouring pairs land far apart
    h ^= h >> np.uint64(29)
    return (h >> np.uint64(1)).astype(np.int64)


def _top_per_group(
    group: IntArray, slack: IntArray, k: int, rows: IntArray, cols: IntArray
) -> NDArray[np.bool_]:
    """Mask of the `k` largest `slack` values within each value of `group` (ties scrambled)."""
    order = np.lexsort((np.arange(group.size), _scramble(rows, cols), -slack, group))
    sorted_group = group[order]
    rank = np.arange(group.size) - np.searchsorted(sorted_group, sorted_group, side="left")
    keep = np.zeros(group.size, dtype=bool)
    keep[order[rank < k]] = True
    return keep


def assign_sparse(
    n_mentees: int,
    rows: ArrayLike,
    cols: ArrayLike,
    scores: ArrayLike,
    capacity: ArrayLike,
) -> list[tuple[int, int]]:
    """Optimal assignment restricted to the given feasible pairs (a sparse score matrix).

    Same objective and guarantees as :func:`assign`, for graphs too large to hold densely,
    such as the output of :func:`matching.candidate_graph`: the answer is optimal among
    assignments that use only the pairs given.

    Parameters
    ----------
    n_mentees : int
    rows, cols : array_like of int
        Mentee and tutor index of each feasible pair (each pair at most once).
    scores : array_like of float
        Score in [0, 1] of each pair.
    capacity : array_like of int, shape (n_tutors,)

    Returns
    -------
    list of (int, int)
        ``(mentee index, tutor index)`` pairs sorted by mentee.
    """
    if isinstance(n_mentees, bool) or not isinstance(n_mentees, numbers.Integral) or n_mentees < 0:
        raise MatchingInputError(
            f"Nombre de bénéficiaires : un entier positif ou nul est attendu, pas {n_mentees!r}."
        )
    n = int(n_mentees)
    r = np.asarray(rows)
    c = np.asarray(cols)
    sc = np.asarray(scores, dtype=np.float64)
    if r.ndim != 1 or c.shape != r.shape or sc.shape != r.shape:
        raise MatchingInputError(
            f"Lignes, colonnes et scores : trois listes de même longueur sont attendues, pas {r.shape}, {c.shape}, {sc.shape}."
        )
    cap0 = np.asarray(capacity)
    m = cap0.shape[0] if cap0.ndim == 1 else -1
    cap = _check_capacity(capacity, m)
    if r.size and not (np.issubdtype(r.dtype, np.integer) and np.issubdtype(c.dtype, np.integer)):
        raise MatchingInputError("Lignes et colonnes : des indices entiers sont attendus.")
    r = r.astype(np.int64)
    c = c.astype(np.int64)
    if r.size:
        if r.min() < 0 or r.max() >= n or c.min() < 0 or c.max() >= m:
            raise MatchingInputError(f"Indices hors limites pour {n} bénéficiaires et {m} tuteurs.")
        if not (np.all(np.isfinite(sc)) and sc.min() >= 0.0 and sc.max() <= 1.0):
            raise MatchingInputError(
                "Le score de chaque binôme donné est un nombre fini entre 0 et 1."
            )
        key = r * m + c
        if np.unique(key).size != key.size:
            raise MatchingInputError(
                "Un même binôme (bénéficiaire, tuteur) est donné plusieurs fois."
            )
    ok = cap[c] > 0
    r, c, sc = r[ok], c[ok], sc[ok]
    if r.size == 0:
        return []
    order = np.lexsort((c, r))
    r, c, sc = r[order], c[order], sc[order]
    q = _quantise(sc)
    tutor_of = _solve_graph(n, m, cap, r, c, q)
    a, v = _duals(n, m, cap, r, c, q, tutor_of)  # raises if not provably optimal
    if r.size and np.any(q > a[r] + v[c]):  # pragma: no cover - the duals cover every edge
        raise RuntimeError("internal error: the assignment could not be proven optimal")
    return _pairs(tutor_of)
