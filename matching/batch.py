"""Batch mode from plain people, at any scale: the score matrix is never held in memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from .assignment import (
    _NEAR,
    SCORE_UNIT,
    _break_ties,
    _duals,
    _pairs,
    _quantise,
    _solve_graph,
    _tie_rank,
    _TopPerColumn,
    _tutor_quota,
    check_min_score,
)
from .candidates import Progress, TutorIndex, _check_k, _merge_top_k, _ScoreStream, _top_k_rows
from .scoring import _check_weights
from .types import Mentee, Tutor, Weights

__all__ = ["BatchResult", "Round", "assign_all", "assign_batch"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Round:
    """Figures of one round of :func:`assign_batch`."""

    pairs: int
    total_score: float
    max_pairs: int
    score_bound: float | None
    candidate_pairs: int


@dataclass(frozen=True)
class BatchResult:
    """An assignment and how far from the optimum over all feasible pairs it can be.

    Attributes
    ----------
    pairs : list of (int, int)
        ``(mentee index, tutor index)``, sorted by mentee.
    total_score : float
        Sum of the scores of the pairs.
    max_pairs : int
        Proven upper bound on the number of pairs of any assignment.
    score_bound : float or None
        Proven upper bound on the total score of any assignment with ``len(pairs)`` pairs
        (``None`` when ``max_pairs > len(pairs)``: more pairs might then be possible).
    proven_optimal : bool
        True when the bounds are met: no assignment matches more mentees, or the same number
        with a higher total (up to the 2**-30 rounding of scores).
    candidate_pairs : int
        Pairs in the sparse graph that was solved.
    rounds : int
        Times the assignment problem was solved.
    history : tuple of Round
        Each round's figures (the first one is what ``exact=False`` returns).
    """

    pairs: list[tuple[int, int]]
    total_score: float
    max_pairs: int
    score_bound: float | None
    proven_optimal: bool
    candidate_pairs: int
    rounds: int
    history: tuple[Round, ...] = ()

    @property
    def gap(self) -> float | None:
        """``(score_bound - total_score) / score_bound``: what is left to gain at most."""
        if self.score_bound is None:
            return None
        return (
            0.0
            if self.score_bound <= 0
            else max(0.0, (self.score_bound - self.total_score) / self.score_bound)
        )


def assign_batch(
    mentees: Sequence[Mentee],
    tutors: Sequence[Tutor] | TutorIndex,
    weights: Weights | None = None,
    k: int = 10,
    exact: bool = True,
    progress: Progress | None = None,
    min_score: float | None = None,
) -> BatchResult:
    """Assign mentees to tutors (most mentees first, then highest total score), from the people.

    Same objective as ``assign(score_matrix(mentees, tutors, weights), capacities)``, but the
    pairs are scored block by block and only a sparse graph of good candidates is kept, so
    that it scales to a whole country (100,000 x 30,000 pairs) in little memory.

    Parameters
    ----------
    mentees : sequence of Mentee
    tutors : sequence of Tutor, or TutorIndex
        A tutor's ``capacity`` is their number of places.
    weights : Weights, optional
    k : int, default 10
        Best tutors of each mentee in the first candidate graph (with the best few mentees
        of each tutor).
    exact : bool, default True
        Repeat until the assignment is proven optimal over all feasible pairs. With False,
        stop after the first graph: the result then carries proven bounds telling how much
        could be gained at most.
    progress : callable, optional
        ``progress(stage, done, total)``, called during each pass over the mentees.
    min_score : float in [0, 1], optional
        A pair scoring less is never made, not even to match one more mentee.

    Returns
    -------
    BatchResult

    Notes
    -----
    A first pass scores every pair that can be feasible and keeps the candidate graph. The
    assignment is solved exactly on that graph (see :func:`matching.assign_sparse`) together
    with its linear-programming duals. A second pass re-scores all feasible pairs against
    those duals: raising each mentee's dual just enough to cover all their pairs gives
    a feasible dual solution of the full problem, hence proven upper bounds. In exact mode,
    the pairs that break the duals join the graph and the problem is solved again, until
    none does (then the bounds equal the solution).
    """
    k = max(1, _check_k(k))
    w = _check_weights(weights if weights is not None else Weights())
    floor = check_min_score(min_score)
    index = tutors if isinstance(tutors, TutorIndex) else TutorIndex(tutors)
    mentees = list(mentees)
    n, m = len(mentees), len(index)
    if n == 0 or m == 0:
        return BatchResult([], 0.0, 0, 0.0, True, 0, 0)
    ts = index.side
    cap = ts.capacity
    usable = cap > 0
    stream = _ScoreStream(mentees, index, w)

    def blocks(stage: str):
        for block_rows, columns, block in stream.blocks(stage, progress):
            if floor is not None and floor > 0.0:
                block = np.where(block < floor, np.nan, block)
            yield block_rows, columns, block

    # First pass: each mentee's best tutors and each tutor's best mentees.
    empty_i, empty_f = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    parts_r, parts_c, parts_s = [empty_i], [empty_i], [empty_f]
    per_tutor = _TopPerColumn(_tutor_quota(cap))
    for rows, columns, block in blocks("candidats"):
        r, c, s = _top_k_rows(block, columns, ts.ids, ts.last_asked, k)
        parts_r.append(rows[r])
        parts_c.append(c)
        parts_s.append(s)
        per_tutor.add(rows, columns, block)
    rows, cols, scores = _merge_top_k(
        np.concatenate(parts_r),
        np.concatenate(parts_c),
        np.concatenate(parts_s),
        ts.ids,
        ts.last_asked,
        k,
    )
    pr, pc, ps = per_tutor.result()
    rows, cols, scores = _unique_pairs(
        np.concatenate([rows, pr]), np.concatenate([cols, pc]), np.concatenate([scores, ps]), m
    )

    big = (n + 2) * SCORE_UNIT  # the weight of one more pair, as in assignment._duals
    near = float(int(_NEAR * SCORE_UNIT))
    history: list[Round] = []
    for round_number in range(1, 10_000):
        q = _quantise(scores)
        tutor_of = _solve_graph(n, m, cap, rows, cols, q)
        a, v = _duals(n, m, cap, rows, cols, q, tutor_of)
        # Pass over all feasible pairs: the largest q_ij - v_j of each mentee (to raise its
        # dual), and the pairs that break the duals (q_ij > a_i + v_j).
        v_float = np.where(usable, v.astype(np.float64), np.inf)
        raised = a.astype(np.float64)
        new_r, new_c, new_s = [], [], []
        breaking = 0
        for block_rows, columns, block in blocks(f"vérification {round_number}"):
            slack = np.rint(block * SCORE_UNIT) - v_float[columns][None, :]
            best = np.fmax.reduce(slack, axis=1)  # exact: integers below 2**53
            np.fmax.at(raised, block_rows, best)
            # Pairs that break the duals, and (see assignment._NEAR) those close to it.
            r, c = np.nonzero(slack > (a[block_rows] - near)[:, None])
            if r.size:
                breaking += int(np.count_nonzero(slack[r, c] > a[block_rows[r]]))
                new_r.append(block_rows[r])
                new_c.append(columns[c])
                new_s.append(block[r, c])
        result = _result(tutor_of, rows, cols, scores, cap, v, raised, big, m, history)
        if breaking == 0 and exact:
            # Proven: the tie rule picks the same optimum as `assign` (see assignment._break_ties)
            # among the pairs that meet the duals exactly, all of them within the band just read.
            tr = np.concatenate([rows, *new_r])
            tc = np.concatenate([cols, *new_c])
            tq = _quantise(np.concatenate([scores, *new_s]))
            tight = tq == a[tr] + v[tc]
            key = np.unique(tr[tight] * m + tc[tight])
            tutor_of = _break_ties(
                n, m, cap, key // m, key % m, tutor_of, a, v, _tie_rank(ts.ids, ts.last_asked)
            )
            result = replace(result, pairs=_pairs(tutor_of))
        if breaking == 0 or not exact:
            return replace(result, proven_optimal=breaking == 0, rounds=round_number)
        rows, cols, scores = _unique_pairs(
            np.concatenate([rows, *new_r]),
            np.concatenate([cols, *new_c]),
            np.concatenate([scores, *new_s]),
            m,
        )
    raise RuntimeError("internal error: the assignment did not converge")  # pragma: no cover


def _result(
    tutor_of: IntArray,
    rows: IntArray,
    cols: IntArray,
    scores: FloatArray,
    cap: IntArray,
    v: IntArray,
    raised: FloatArray,
    big: int,
    m: int,
    history: list[Round],
) -> BatchResult:
    pairs = _pairs(tutor_of)
    matched = np.flatnonzero(tutor_of >= 0)
    keys = rows * m + cols  # sorted, see _unique_pairs
    total = float(scores[np.searchsorted(keys, matched * m + tutor_of[matched])].sum())
    # Dual objective of the raised duals, in exact integers: sum(u) + sum(cap * v), with
    # u_i = raised_i + B >= 0, bounds B * (number of pairs) + (total q) of every assignment.
    u_sum = sum(int(x) for x in raised.astype(np.int64).tolist()) + len(tutor_of) * big
    v_sum = sum(int(c) * int(x) for c, x in zip(cap.tolist(), v.tolist(), strict=True) if c > 0)
    bound = u_sum + v_sum
    max_pairs = int(bound // big)
    score_bound = (bound - big * len(pairs)) / SCORE_UNIT if max_pairs == len(pairs) else None
    history.append(Round(len(pairs), total, max_pairs, score_bound, int(rows.size)))
    return BatchResult(
        pairs=pairs,
        total_score=total,
        max_pairs=max_pairs,
        score_bound=score_bound,
        proven_optimal=False,
        candidate_pairs=int(rows.size),
        rounds=len(history),
        history=tuple(history),
    )


def assign_all(
    mentees: Sequence[Mentee],
    tutors: Sequence[Tutor] | TutorIndex,
    weights: Weights | None = None,
    k: int = 10,
    progress: Progress | None = None,
    min_score: float | None = None,
) -> list[tuple[int, int]]:
    """The proven optimal assignment over all feasible pairs: ``assign_batch(...).pairs``.

    Equal (up to the 2**-30 rounding of scores) to
    ``assign(score_matrix(mentees, tutors, weights), [t.capacity for t in tutors])``.
    """
    return assign_batch(
        mentees, tutors, weights, k=k, exact=True, progress=progress, min_score=min_score
    ).pairs


def _unique_pairs(
    rows: IntArray, cols: IntArray, scores: FloatArray, m: int
) -> tuple[IntArray, IntArray, FloatArray]:
    """Each (row, col) once, sorted; the same pair always carries the same score."""
    key, first = np.unique(rows * m + cols, return_index=True)
    return key // m, key % m, scores[first]
