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

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import maximum_bipartite_matching, min_weight_full_bipartite_matching

__all__ = ["assign", "assign_sparse"]

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
        raise ValueError(f"scores must be a 2-D array of numbers: {exc}") from None
    if s.ndim != 2:
        raise ValueError(f"scores must be a 2-D array (mentees x tutors), got shape {s.shape}")
    if s.size:
        low = np.fmin.reduce(s, axis=None)
        high = np.fmax.reduce(s, axis=None)
        if not np.isnan(low) and not (low >= 0.0 and high <= 1.0):
            bad = np.argwhere(~np.isnan(s) & ~((s >= 0.0) & (s <= 1.0)))[0]
            raise ValueError(
                f"scores must be in [0, 1] or nan (infeasible); got {s[tuple(bad)]!r} at {tuple(int(b) for b in bad)}"
            )
    return s


def _check_capacity(capacity: ArrayLike, m: int) -> IntArray:
    cap = np.asarray(capacity)
    if cap.ndim != 1 or cap.shape[0] != m:
        raise ValueError(
            f"capacity must be a 1-D array with one entry per tutor ({m}), got shape {cap.shape}"
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
        raise ValueError(f"capacity must hold non-negative integers, got {cap.dtype} values")
    result = cap.astype(np.int64)
    if np.any(result < 0):
        j = int(np.flatnonzero(result < 0)[0])
        raise ValueError(f"capacity must be non-negative; tutor {j} has {result[j]}")
    return result


# --------------------------------------------------------------------------------------------
# The exact solver on a sparse graph
# --------------------------------------------------------------------------------------------


def _solve_graph(
    n: int, m: int, cap: IntArray, rows: IntArray, cols: IntArray, q: IntArray
) -> IntArray:
    """Lexicographic optimum (cardinality, then total q) on the given edges.

    Returns the tutor of each mentee, -1 when unmatched. ``rows``/``cols`` must be unique pairs
    of tutors with a positive capacity.
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
    cost = (SCORE_UNIT + 1 - q[edge]).astype(np.float64)
    if n_places <= mentees.size:
        a_idx, b_idx, n_a, n_b = place, r[edge], n_places, mentees.size
    else:
        a_idx, b_idx, n_a, n_b = r[edge], place, mentees.size, n_places
    graph = sp.csr_array((cost, (a_idx, b_idx)), shape=(n_a, n_b))
    if int(np.count_nonzero(maximum_bipartite_matching(graph, perm_type="column") >= 0)) < n_a:
        # Not every row can be matched: give each row a dummy column whose cost exceeds any
        # possible total of real costs, so that one more real match always wins.
        dummy = float((n_a + 1) * (SCORE_UNIT + 1))
        if dummy * 4 >= 2.0**53:
            raise ValueError("problem too large for exact arithmetic")
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
    n: int, m: int, cap: IntArray, rows: IntArray, cols: IntArray, q: IntArray, tutor_of: IntArray
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
    big = np.int64(n + 2) * np.int64(SCORE_UNIT)
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


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def assign(scores: ArrayLike, capacity: ArrayLike) -> list[tuple[int, int]]:
    """Optimal assignment of mentees to tutors.

    Parameters
    ----------
    scores : array_like, shape (n_mentees, n_tutors)
        Score in [0, 1] of each pair, ``nan`` where the pair is infeasible (as returned by
        :func:`matching.score_matrix`).
    capacity : array_like of int, shape (n_tutors,)
        Places of each tutor (0 allowed).

    Returns
    -------
    list of (int, int)
        ``(mentee index, tutor index)`` pairs sorted by mentee: each mentee at most once, each
        tutor at most ``capacity[j]`` times, never an infeasible pair. Among all such
        assignments it has the largest number of pairs and, among those, the largest total
        score (exact for scores rounded to ``2**-30``). The same input gives the same answer.

    Raises
    ------
    ValueError
        Wrong shapes, a score outside [0, 1] (or infinite), a negative or non-integer capacity.
    """
    s = _check_scores(scores)
    n, m = s.shape
    cap = _check_capacity(capacity, m)
    if n == 0 or m == 0:
        return []
    # Pairs with a tutor without places can never be used.
    usable = cap > 0
    rows, cols = _initial_graph(s, cap)
    for round_number in range(1, _MAX_ROUNDS + 2):
        q = _quantise(s[rows, cols])
        tutor_of = _solve_graph(n, m, cap, rows, cols, q)
        a, v = _duals(n, m, cap, rows, cols, q, tutor_of)
        new_rows, new_cols = _violations(s, a, v, usable)
        if new_rows.size == 0:
            return _pairs(tutor_of)
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
    found_r: list[IntArray] = []
    found_c: list[IntArray] = []
    for r0 in range(0, n, _ROW_BLOCK):
        block = s[r0 : r0 + _ROW_BLOCK]
        r, c = np.nonzero(block >= left[r0 : r0 + _ROW_BLOCK, None] + right[None, :])
        found_r.append(r + r0)
        found_c.append(c)
    rows, cols = np.concatenate(found_r), np.concatenate(found_c)
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
        raise ValueError(f"n_mentees must be a non-negative integer, got {n_mentees!r}")
    n = int(n_mentees)
    r = np.asarray(rows)
    c = np.asarray(cols)
    sc = np.asarray(scores, dtype=np.float64)
    if r.ndim != 1 or c.shape != r.shape or sc.shape != r.shape:
        raise ValueError(
            f"rows, cols and scores must be 1-D of the same length, got {r.shape}, {c.shape}, {sc.shape}"
        )
    cap0 = np.asarray(capacity)
    m = cap0.shape[0] if cap0.ndim == 1 else -1
    cap = _check_capacity(capacity, m)
    if r.size and not (np.issubdtype(r.dtype, np.integer) and np.issubdtype(c.dtype, np.integer)):
        raise ValueError("rows and cols must be integer indices")
    r = r.astype(np.int64)
    c = c.astype(np.int64)
    if r.size:
        if r.min() < 0 or r.max() >= n or c.min() < 0 or c.max() >= m:
            raise ValueError(f"indices out of range for {n} mentees and {m} tutors")
        if not (np.all(np.isfinite(sc)) and sc.min() >= 0.0 and sc.max() <= 1.0):
            raise ValueError("scores of the given pairs must be finite and in [0, 1]")
        key = r * m + c
        if np.unique(key).size != key.size:
            raise ValueError("a (mentee, tutor) pair is given more than once")
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
