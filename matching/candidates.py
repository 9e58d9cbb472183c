"""The k best tutors for one mentee: a spatial index and the shared kernel, same result as a full scan."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .errors import MatchingInputError
from .geo import EARTH_RADIUS_KM
from .scoring import MenteeSide, TutorSide, _check_weights, _kernel, _TutorColumns, _Workspace
from .types import Mentee, Tutor, Weights

__all__ = ["CandidateGraph", "TutorIndex", "candidate_graph", "top_candidates"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
#: ``progress(stage, done, total)``: called as long computations go.
Progress = Callable[[str, int, int], None]


def _chord(km: float) -> float:
    """Straight-line distance through the unit sphere between points ``km`` apart, widened a hair."""
    angle = min(km / EARTH_RADIUS_KM, math.pi)
    return 2.0 * math.sin(angle / 2.0) * (1.0 + 1e-9) + 1e-12


def rank_candidates(
    columns: IntArray, scores: FloatArray, ids: IntArray, last_asked: FloatArray, k: int
) -> list[tuple[int, float]]:
    """Best ``k`` feasible (column, score): score desc, then least recently asked, id, column."""
    feasible = ~np.isnan(scores)
    columns, scores = columns[feasible], scores[feasible]
    if k <= 0 or columns.size == 0:
        return []
    if columns.size > k:
        # Keep everything tied with the k-th best so that the tie-breaks below decide.
        threshold = -np.partition(-scores, k - 1)[k - 1]
        keep = scores >= threshold
        columns, scores = columns[keep], scores[keep]
    order = np.lexsort((columns, ids[columns], last_asked[columns], -scores))[:k]
    return [(int(columns[i]), float(scores[i])) for i in order]


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise MatchingInputError(f"k (tuteurs gardés) : un nombre entier est attendu, pas {k!r}.")
    if k < 1:
        raise MatchingInputError(f"k (tuteurs gardés) : au moins 1, pas {k}.")
    return int(k)


class TutorIndex:
    """Tutors prepared once for many :meth:`top_candidates` queries.

    Parameters
    ----------
    tutors : sequence of Tutor
        Indices returned by the queries are positions in this sequence.

    Notes
    -----
    A k-d tree over the tutors' positions (unit vectors, so distances are chords of the
    sphere) finds the tutors within the mentee's own distance limit; when the mentee accepts
    remote contact, the tutors who also do are added. No feasible pair lies outside these two
    sets, and the candidates are scored by the same kernel as :func:`score_matrix`, so the
    result is exactly that of a full scan.
    """

    def __init__(self, tutors: Sequence[Tutor]) -> None:
        self.side = TutorSide(tutors)
        active = np.flatnonzero(self.side.capacity > 0)
        self._active = active
        points = np.column_stack([self.side.x[active], self.side.y[active], self.side.z[active]])
        self._tree = cKDTree(points) if active.size else None
        self._remote = np.flatnonzero(self.side.remote)
        # Remote tutors are candidates of every remote mentee: their kernel view is kept.
        self._remote_view = self.side.subset(self._remote)

    def __len__(self) -> int:
        return len(self.side)

    def _near(self, mentee: Mentee, ms: MenteeSide) -> IntArray:
        """Active tutors within the mentee's own distance limit (a superset of the feasible ones)."""
        if self._tree is None:
            return np.empty(0, dtype=np.int64)
        point = np.array([ms.x[0], ms.y[0], ms.z[0]])
        near = self._tree.query_ball_point(point, _chord(mentee.effective_max_km))
        return self._active[np.asarray(near, dtype=np.int64)]

    def candidate_columns(self, mentee: Mentee) -> IntArray:
        """Indices of the tutors that can be feasible for ``mentee`` (a superset), sorted."""
        near = self._near(mentee, MenteeSide([mentee], self.side))
        if mentee.remote_ok:
            near = np.union1d(near, self._remote)
        return np.sort(near)

    def _scored(self, mentee: Mentee, w: Weights) -> tuple[IntArray, FloatArray]:
        """Candidate columns and their scores (nan where infeasible)."""
        ms = MenteeSide([mentee], self.side)
        near = self._near(mentee, ms)
        parts_c: list[IntArray] = []
        parts_s: list[FloatArray] = []
        if mentee.remote_ok:
            # Remote tutors are scored from their cached view; only the others among the
            # near ones are added, so that no tutor is scored twice.
            near = near[~self.side.remote[near]]
            if self._remote.size:
                parts_c.append(self._remote)
                parts_s.append(_kernel(ms, 0, 1, self._remote_view, w)[0][0])
        if near.size:
            parts_c.append(near)
            parts_s.append(_kernel(ms, 0, 1, self.side.subset(near), w)[0][0])
        if not parts_c:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        return np.concatenate(parts_c), np.concatenate(parts_s)

    def scores(
        self, mentee: Mentee, columns: IntArray | None = None, weights: Weights | None = None
    ) -> FloatArray:
        """Scores of ``mentee`` against the tutors ``columns`` (all when None), nan if infeasible."""
        w = _check_weights(weights if weights is not None else Weights())
        _check_mentee(mentee)
        ms = MenteeSide([mentee], self.side)
        score, _ = _kernel(ms, 0, 1, self.side.subset(columns), w)
        return score[0]

    def top_candidates(
        self, mentee: Mentee, k: int = 20, weights: Weights | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` best feasible tutors for ``mentee``; see :func:`matching.top_candidates`."""
        k = _check_k(k)
        w = _check_weights(weights if weights is not None else Weights())
        _check_mentee(mentee)
        if k == 0:
            return []
        columns, scores = self._scored(mentee, w)
        return rank_candidates(columns, scores, self.side.ids, self.side.last_asked, k)


def _check_mentee(mentee: object) -> None:
    if not isinstance(mentee, Mentee):
        raise MatchingInputError(
            f"Un bénéficiaire (Mentee) est attendu, pas {type(mentee).__name__}."
        )


def top_candidates(
    mentee: Mentee,
    tutors: Sequence[Tutor] | TutorIndex,
    k: int = 20,
    weights: Weights | None = None,
) -> list[tuple[int, float]]:
    """The ``k`` best feasible tutors for one mentee.

    Parameters
    ----------
    mentee : Mentee
    tutors : sequence of Tutor, or TutorIndex
        For many queries over the same tutors, build a :class:`TutorIndex` once and pass it.
    k : int, default 20
    weights : Weights, optional

    Returns
    -------
    list of (int, float)
        ``(tutor index, score)``, best first; ties go to the tutor asked least recently
        (never asked first), then to the smaller tutor id, then to the smaller index.
        Infeasible tutors never appear, so the list may be shorter than ``k``.
    """
    index = tutors if isinstance(tutors, TutorIndex) else TutorIndex(tutors)
    return index.top_candidates(mentee, k, weights)


@dataclass(frozen=True)
class CandidateGraph:
    """A sparse set of feasible pairs with their scores (mentee index, tutor index, score).

    Entries are sorted by mentee, then best first (the order of :func:`top_candidates`).
    """

    rows: IntArray
    cols: IntArray
    scores: FloatArray
    n_mentees: int
    n_tutors: int

    def __len__(self) -> int:
        return int(self.rows.size)


# Pairs scored at once by candidate_graph: bounds the scratch memory (about 10 arrays of 8 bytes).
_GRAPH_BLOCK_CELLS = 1 << 17
# Mentees are grouped by cells of this many degrees, so that neighbours share their candidates.
_CELL_DEGREES = 0.25


class _ScoreStream:
    """Every pair that can be feasible, scored block by block with the shared kernel.

    Two kinds of blocks, so that each pair is scored once:

    * local blocks: neighbouring mentees (same cell of the map) against the tutors within
      reach of any of them (k-d tree) - for a mentee who accepts remote contact, only the
      tutors who do not (the others come next);
    * remote blocks: the mentees who accept remote contact against all tutors who do.

    Pairs in no block are infeasible. A mentee's pairs may come in two blocks.
    """

    def __init__(self, mentees: Sequence[Mentee], index: TutorIndex, weights: Weights) -> None:
        for p in mentees:
            _check_mentee(p)
        self.index, self.weights = index, weights
        self.n = n = len(mentees)
        lat = np.array([p.lat for p in mentees], dtype=np.float64)
        lon = np.array([p.lon for p in mentees], dtype=np.float64)
        remote = np.array([p.remote_ok for p in mentees], dtype=np.bool_)
        cell_lat = np.floor(lat / _CELL_DEGREES).astype(np.int64)
        cell_lon = np.floor(lon / _CELL_DEGREES).astype(np.int64)
        # Remote mentees last, so that they form one contiguous run for the remote blocks.
        self.order = np.lexsort((np.arange(n), cell_lon, cell_lat, remote))
        self.side = MenteeSide([mentees[i] for i in self.order], index.side)
        self.remote = remote[self.order]
        self.first_remote = int(np.searchsorted(self.remote, True)) if n else 0
        self.chords = np.array([_chord(mentees[i].effective_max_km) for i in self.order])
        self.points = np.column_stack([self.side.x, self.side.y, self.side.z])
        key = np.stack([self.remote, cell_lat[self.order], cell_lon[self.order]], axis=1)
        starts = np.flatnonzero(np.any(np.diff(key, axis=0) != 0, axis=1)) + 1
        self.bounds = (
            np.concatenate([[0], starts, [n]]).astype(np.int64) if n else np.zeros(1, np.int64)
        )

    def _score(
        self, g0: int, g1: int, columns: IntArray, sub: _TutorColumns | None = None
    ) -> Iterator[tuple[IntArray, IntArray, FloatArray]]:
        sub = sub if sub is not None else self.index.side.subset(columns)
        step = max(1, _GRAPH_BLOCK_CELLS // columns.size)
        work = _Workspace(min(step, g1 - g0), columns.size)
        for r0 in range(g0, g1, step):
            r1 = min(g1, r0 + step)
            block, _ = _kernel(self.side, r0, r1, sub, self.weights, work=work.take(r1 - r0))
            yield self.order[r0:r1], columns, block

    def blocks(
        self, stage: str = "", progress: Progress | None = None
    ) -> Iterator[tuple[IntArray, IntArray, FloatArray]]:
        """Yield ``(mentee indices, tutor indices, scores)`` blocks (nan where infeasible)."""
        index = self.index
        n_remote = self.n - self.first_remote
        total = self.n + n_remote
        done = 0
        for g0, g1 in itertools.pairwise(self.bounds.tolist()):
            if index._tree is not None:
                near = index._tree.query_ball_point(self.points[g0:g1], self.chords[g0:g1])
                columns = index._active[
                    np.unique(np.concatenate([np.asarray(x, dtype=np.int64) for x in near]))
                ]
                if self.remote[g0]:
                    columns = columns[~index.side.remote[columns]]
                if columns.size:
                    yield from self._score(g0, g1, columns)
            done += g1 - g0
            if progress is not None:
                progress(stage, done, total)
        if n_remote and index._remote.size:
            step = max(1, _GRAPH_BLOCK_CELLS // index._remote.size) * 64
            for g0 in range(self.first_remote, self.n, step):
                g1 = min(self.n, g0 + step)
                yield from self._score(g0, g1, index._remote, index._remote_view)
                done += g1 - g0
                if progress is not None:
                    progress(stage, done, total)
        if progress is not None and done < total:
            progress(stage, total, total)


def candidate_graph(
    mentees: Sequence[Mentee],
    tutors: Sequence[Tutor] | TutorIndex,
    k: int = 10,
    weights: Weights | None = None,
    progress: Progress | None = None,
) -> CandidateGraph:
    """The ``k`` best feasible tutors of every mentee, as a sparse graph for :func:`assign_sparse`.

    For national volumes, where the full score matrix would not fit in memory
    (100,000 x 30,000 pairs), this scores only the tutors that can be feasible for each mentee
    (within the mentee's distance limit, or remote when both accept it), by blocks of
    neighbouring mentees, with the same kernel as :func:`score_matrix`.

    Parameters
    ----------
    mentees : sequence of Mentee
    tutors : sequence of Tutor, or TutorIndex
    k : int, default 10
        Tutors kept per mentee (ranked as in :func:`top_candidates`).
    weights : Weights, optional
    progress : callable, optional
        Called as ``progress(stage, done, total)`` (mentees done) after each block of mentees.

    Returns
    -------
    CandidateGraph
    """
    k = _check_k(k)
    w = _check_weights(weights if weights is not None else Weights())
    index = tutors if isinstance(tutors, TutorIndex) else TutorIndex(tutors)
    ts = index.side
    mentees = list(mentees)
    n, m = len(mentees), len(ts)
    empty_i, empty_f = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    if n == 0 or m == 0 or k == 0:
        return CandidateGraph(empty_i, empty_i, empty_f, n, m)
    out_rows, out_cols, out_scores = [], [], []
    for rows, columns, block in _ScoreStream(mentees, index, w).blocks("candidats", progress):
        r, c, s = _top_k_rows(block, columns, ts.ids, ts.last_asked, k)
        out_rows.append(rows[r])
        out_cols.append(c)
        out_scores.append(s)
    rows = np.concatenate(out_rows) if out_rows else empty_i
    cols = np.concatenate(out_cols) if out_cols else empty_i
    scores = np.concatenate(out_scores) if out_scores else empty_f
    rows, cols, scores = _merge_top_k(rows, cols, scores, ts.ids, ts.last_asked, k)
    return CandidateGraph(rows, cols, scores, n, m)


def _merge_top_k(
    rows: IntArray,
    cols: IntArray,
    scores: FloatArray,
    ids: IntArray,
    last_asked: FloatArray,
    k: int,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Per mentee, the best ``k`` of its candidates (gathered from several blocks), ranked."""
    order = np.lexsort((cols, ids[cols], last_asked[cols], -scores, rows))
    rows, cols, scores = rows[order], cols[order], scores[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, rows, side="left")
    keep = rank < k
    return rows[keep], cols[keep], scores[keep]


def _top_k_rows(
    block: FloatArray, columns: IntArray, ids: IntArray, last_asked: FloatArray, k: int
) -> tuple[IntArray, IntArray, FloatArray]:
    """Per row of ``block``, the best ``k`` feasible entries in top_candidates order."""
    neg = np.negative(block)
    if block.shape[1] > k:
        # The k-th best score of each row (nan if fewer feasible): keep all entries tied with it.
        kth = np.partition(neg, k - 1, axis=1)[:, k - 1 : k]
        keep = (neg <= kth) | (np.isnan(kth) & ~np.isnan(neg))
    else:
        keep = ~np.isnan(neg)
    r, c = np.nonzero(keep)
    cols = columns[c]
    s = block[r, c]
    order = np.lexsort((cols, ids[cols], last_asked[cols], -s, r))
    r, cols, s = r[order], cols[order], s[order]
    first = np.searchsorted(r, r, side="left")
    rank = np.arange(r.size) - first
    sel = rank < k
    return r[sel], cols[sel], s[sel]
