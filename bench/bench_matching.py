"""Benchmark of the matching library against baselines run in the same process (python -m bench.bench_matching)."""

from __future__ import annotations

import argparse
import itertools
import math
import os
import random
import resource
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

import numpy as np
import scipy
from scipy.optimize import linear_sum_assignment

import matching
import matching.candidates
from matching import Mentee, Tutor
from tutorat.demo.population import COMMON_METIERS

T = TypeVar("T")

# --------------------------------------------------------------------------------------------
# A demo population on the real Gers geography
# --------------------------------------------------------------------------------------------

# Same vocabulary and proportions as the web application's demo population (tutorat/demo/).


def _communes() -> list[tuple[float, float, int]]:
    out = []
    for item in _GERS_COMMUNES.strip(";").split(";"):
        lat, lon, pop = item.split(",")
        out.append((float(lat), float(lon), int(pop)))
    return out


def _slots(rng: random.Random, n: int) -> int:
    return sum(1 << b for b in rng.sample(range(matching.SLOT_COUNT), n))


def population(
    n_mentees: int, n_tutors: int, seed: int = 32, tiles: int = 1
) -> tuple[list[Mentee], list[Tutor]]:
    """Mentees and tutors placed like the demo population of the app, on the Gers communes.

    With ``tiles > 1`` the Gers is copied on a grid of ``tiles`` départements across a
    France-sized area (about 8 degrees of latitude by 13 of longitude).
    """
    rng = random.Random(seed)
    communes = _communes()
    cumulative = list(itertools.accumulate(pop**0.6 for _, _, pop in communes))
    side = math.ceil(math.sqrt(tiles))
    obstacles = list(matching.OBSTACLES)

    def place() -> tuple[float, float]:
        lat, lon, _ = rng.choices(communes, cum_weights=cumulative)[0]
        tile = rng.randrange(tiles)
        return lat + 0.8 * (tile // side) - 0.8 * (side // 2), lon + 1.3 * (tile % side) - 1.3 * (
            side // 2
        )

    def metier() -> str:
        return rng.choice(COMMON_METIERS) if rng.random() < 0.8 else rng.choice(_ROME_METIERS)

    tutors = []
    for i in range(n_tutors):
        lat, lon = place()
        has_car = rng.random() < 0.75
        tutors.append(
            Tutor(
                id=100_000_000 + i,
                lat=lat,
                lon=lon,
                sectors=(metier(),),
                availability=_slots(rng, rng.randint(2, 7)),
                max_km=rng.choice([15, 20, 30, 40]) if has_car else 10,
                has_car=has_car,
                remote_ok=rng.random() < 0.5,
                obstacles=frozenset(rng.sample(obstacles, rng.randint(0, 2))),
                capacity=rng.choice([1, 1, 2, 2, 3]),
                last_asked=None if rng.random() < 0.3 else 1.7e9 + rng.randrange(10**7),
            )
        )
    mentees = []
    for i in range(n_mentees):
        lat, lon = place()
        has_car = rng.random() < 0.45
        mentees.append(
            Mentee(
                id=i,
                lat=lat,
                lon=lon,
                sectors=tuple(dict.fromkeys(metier() for _ in range(rng.randint(1, 2)))),
                availability=_slots(rng, rng.randint(2, 8)),
                max_km=rng.choice([15, 20, 30]) if has_car else rng.choice([5, 10, 15]),
                has_car=has_car,
                remote_ok=rng.random() < 0.55,
                obstacles=frozenset(rng.sample(obstacles, rng.randint(0, 3))),
            )
        )
    return mentees, tutors


# --------------------------------------------------------------------------------------------
# Baselines
# --------------------------------------------------------------------------------------------


def _prepare(person: Mentee | Tutor) -> tuple:
    """What a careful pure-Python loop computes once per person rather than once per pair."""
    phi, lam = math.radians(person.lat), math.radians(person.lon)
    xyz = (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))
    limit = person.max_km if person.has_car else min(person.max_km, matching.NO_CAR_MAX_KM)
    return xyz, limit, bin(person.availability).count("1")


_LEVEL_VALUE = {3: 1.0, 2: 0.6, 1: 0.3, 0: 0.0}


def reference_score(m: Mentee, t: Tutor, w: matching.Weights, pm: tuple, pt: tuple) -> float:
    """The score of one pair, in plain Python: the formula of matching/README.md, pair by pair."""
    if t.capacity <= 0:
        return math.nan
    (x1, y1, z1), lm, nm = pm
    (x2, y2, z2), lt, nt = pt
    dx, dy, dz = x1 - x2, y1 - y2, z1 - z2
    d = (
        2
        * matching.EARTH_RADIUS_KM
        * math.asin(min(1.0, math.sqrt(dx * dx + dy * dy + dz * dz) / 2))
    )
    limit = min(lm, lt)
    v_dist = max(0.0, 1.0 - d / max(limit, 1e-9))
    common = m.availability & t.availability
    v_slots = bin(common).count("1") / max(1, min(nm, nt))
    best = 0
    for a in m.sectors:
        for b in t.sectors:
            if len(a) == 5 and a == b:
                best = 3
            elif len(a) >= 3 and len(b) >= 3 and a[:3] == b[:3]:
                best = max(best, 2)
            elif a[0] == b[0]:
                best = max(best, 1)
    v_sector = _LEVEL_VALUE[best]
    v_exp = len(m.obstacles & t.obstacles) / max(1, len(m.obstacles))
    if not ((d <= limit and common) or (m.remote_ok and t.remote_ok)):
        return math.nan
    total = (w.distance + w.sector) + (w.availability + w.experience)
    return (
        (w.distance * v_dist + w.sector * v_sector)
        + (w.availability * v_slots + w.experience * v_exp)
    ) / total


def dense_baseline(scores: np.ndarray, capacity: np.ndarray) -> list[tuple[int, int]]:
    """scipy's dense linear_sum_assignment on capacity-expanded columns (cost -(B + score), 0 if infeasible)."""
    n = scores.shape[0]
    columns = np.repeat(np.arange(scores.shape[1]), capacity)
    cost = np.where(np.isnan(scores), 0.0, -(n + 1.0) - np.nan_to_num(scores))[:, columns]
    rows, cols = linear_sum_assignment(cost)
    del cost
    tutors = columns[cols]
    keep = ~np.isnan(scores[rows, tutors])
    return list(zip(rows[keep].tolist(), tutors[keep].tolist(), strict=True))


def greedy_baseline(
    rows: np.ndarray, cols: np.ndarray, scores: np.ndarray, capacity: np.ndarray, n: int
) -> list[tuple[int, int]]:
    """Best pair first: take it if the mentee is free and the tutor has a place left."""
    order = np.lexsort((cols, rows, -scores))
    left = capacity.astype(np.int64).copy()
    taken = np.zeros(n, dtype=bool)
    pairs = []
    for i, j in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if not taken[i] and left[j] > 0:
            taken[i] = True
            left[j] -= 1
            pairs.append((i, j))
    return sorted(pairs)


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------

_failures: list[str] = []
_CHECK_TARGETS = True  # the targets are for the full sizes; --quick only shows the figures


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Value and wall seconds (CPU seconds in ``_last_cpu[0]``)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    _last_cpu[0] = time.process_time() - cpu
    return value, time.perf_counter() - start


# CPU seconds of the last _measured() call: unlike wall time, not inflated when the machine
# is shared with other work (the load average is printed at the start and at the end).
_last_cpu = [0.0]


def _rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        return 0.0


def _measured(fn: Callable[[], T]) -> tuple[T, float, float]:
    """Value, seconds, and the peak resident memory (MB) of the whole process meanwhile.

    A thread samples the resident set size every 10 ms (``resource``'s ru_maxrss only grows
    over the life of the process, so it cannot isolate one step).
    """
    peak = [_rss_mb()]
    running = threading.Event()
    running.set()

    def sample() -> None:
        while running.is_set():
            peak[0] = max(peak[0], _rss_mb())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        start, cpu = time.perf_counter(), time.process_time()
        value = fn()
        seconds = time.perf_counter() - start
        _last_cpu[0] = time.process_time() - cpu
    finally:
        running.clear()
        sampler.join()
    return value, seconds, max(peak[0], _rss_mb())


def _line(label: str, value: str, target: str = "", ok: bool | None = None) -> None:
    if not _CHECK_TARGETS and target:
        ok, target = None, f"({target} at full size)"
    verdict = "" if ok is None else ("  ok" if ok else "  MISSED")
    if ok is False:
        _failures.append(label)
    print(f"  {label:<52} {value:>28}  {target}{verdict}", flush=True)


def _total(scores_of: Callable[[int, int], float], pairs: list[tuple[int, int]]) -> float:
    return float(sum(scores_of(i, j) for i, j in pairs))


class Progress:
    """A text progress bar on stderr, one line per stage, redrawn at most once per percent."""

    def __init__(self, width: int = 40) -> None:
        self.width, self.start, self.shown = width, time.perf_counter(), ("", -1)

    def __call__(self, stage: str, done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if (stage, percent) == self.shown:
            return
        self.shown = (stage, percent)
        filled = self.width * done // max(total, 1)
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(
            f"\r  {stage:<16} [{'#' * filled}{'.' * (self.width - filled)}] {percent:3d} %  {elapsed:6.1f} s"
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------------------------
# The benchmarks
# --------------------------------------------------------------------------------------------


def bench_scores(n: int, m: int) -> None:
    print(f"\nscore_matrix, {n:,} mentees x {m:,} tutors (Gers demo population)")
    mentees, tutors = population(n, m)
    w = matching.Weights()
    matching.score_matrix(mentees[:50], tutors, w)  # warm-up
    times, cpus = [], []
    for _ in range(3):
        scores, seconds = _timed(lambda: matching.score_matrix(mentees, tutors, w))
        times.append(seconds)
        cpus.append(_last_cpu[0])
        del scores
    best, best_cpu = min(times), min(cpus)
    _, _, peak = _measured(lambda: matching.score_matrix(mentees, tutors, w))
    scores = matching.score_matrix(mentees, tutors, w)
    # The pure-Python reference on a sample of mentees against every tutor.
    sample = mentees[:: max(1, n // 60)][:60]
    prep_t = [_prepare(t) for t in tutors]
    start, cpu = time.perf_counter(), time.process_time()
    reference = np.array(
        [
            [
                reference_score(mt, t, w, _prepare(mt), pt)
                for t, pt in zip(tutors, prep_t, strict=True)
            ]
            for mt in sample
        ]
    )
    python_rate = reference.size / (time.perf_counter() - start)
    python_cpu_rate = reference.size / (time.process_time() - cpu)
    ours = scores[:: max(1, n // 60)][:60]
    same_nan = bool(np.array_equal(np.isnan(ours), np.isnan(reference)))
    diff = float(np.nanmax(np.abs(ours - reference))) if np.any(~np.isnan(ours)) else 0.0
    rate = n * m / best
    _line("feasible pairs", f"{np.mean(~np.isnan(scores)):.1%}")
    cpu_rate = n * m / best_cpu
    _line(
        "pure-Python per-pair reference",
        f"{python_rate / 1e6:.2f} M pairs/s (CPU {python_cpu_rate / 1e6:.2f})",
    )
    _line(
        "score_matrix (best of 3)",
        f"{best:.3f} s = {rate / 1e6:.1f} M pairs/s (CPU {cpu_rate / 1e6:.1f})",
    )
    _line(
        "ratio to the pure-Python reference",
        f"x {rate / python_rate:.0f} (CPU x {cpu_rate / python_cpu_rate:.0f})",
        "target >= x 40",
        rate / python_rate >= 40,
    )
    _line(
        "peak memory (whole process, result included)",
        f"{peak:.0f} MB",
        "target < 600 MB",
        peak < 600,
    )
    _line(
        f"same as the reference on {reference.size:,} pairs",
        f"nan equal {same_nan}, max diff {diff:.1e}",
        "",
        same_nan and diff < 1e-12,
    )


def bench_top(m: int, tiles: int, queries: int) -> None:
    where = "Gers" if tiles == 1 else f"France-sized, {tiles} départements"
    print(f"\ntop_candidates(k=20) among {m:,} tutors ({where})")
    mentees, tutors = population(queries, m, seed=11, tiles=tiles)
    index, build = _timed(lambda: matching.TutorIndex(tutors))
    times = []
    for mt in mentees:
        _, seconds = _timed(lambda mt=mt: index.top_candidates(mt, 20))
        times.append(seconds)
    ms = np.array(times) * 1e3
    target = 1.0 if m <= 3000 else 10.0
    # The same k as a full scan of score_matrix, for a sample.
    ids = np.array([t.id for t in tutors])
    last = np.array([-math.inf if t.last_asked is None else t.last_asked for t in tutors])
    sample = mentees[:: max(1, queries // 25)]
    full = matching.score_matrix(sample, tutors)
    same = all(
        index.top_candidates(mt, 20)
        == matching.candidates.rank_candidates(np.arange(m), full[i], ids, last, 20)
        for i, mt in enumerate(sample)
    )
    scan = (
        np.array(
            [_timed(lambda mt=mt: matching.score_matrix([mt], tutors))[1] for mt in sample[:10]]
        )
        * 1e3
    )
    _line("TutorIndex build (once)", f"{build * 1e3:.1f} ms")
    _line(
        f"median over {queries} mentees",
        f"{np.median(ms):.3f} ms (p90 {np.percentile(ms, 90):.2f})",
        f"target < {target:g} ms",
        bool(np.median(ms) < target),
    )
    _line("full scan with score_matrix, for comparison", f"{np.median(scan):.2f} ms")
    _line(f"same k as a full scan ({len(sample)} mentees)", str(same), "", same)


def bench_assign(n: int, m: int, places_equal_demand: bool, dense: bool) -> None:
    label = "places = demand" if places_equal_demand else "capacities 1-3"
    print(f"\nassign, {n:,} mentees x {m:,} tutors, {label}")
    mentees, tutors = population(n, m, seed=33 if places_equal_demand else 32)
    if places_equal_demand:
        per = n // m
        tutors = [
            replace(t, capacity=per + (1 if j < n - per * m else 0)) for j, t in enumerate(tutors)
        ]
    scores = matching.score_matrix(mentees, tutors)
    capacity = np.array([t.capacity for t in tutors])
    _line("feasible pairs / places", f"{np.mean(~np.isnan(scores)):.1%} / {capacity.sum():,}")
    pairs, seconds, peak = _measured(lambda: matching.assign(scores, capacity))
    total = _total(lambda i, j: scores[i, j], pairs)
    cpu = _last_cpu[0]
    _line("assign (exact)", f"{seconds:.2f} s (CPU {cpu:.2f} s), {peak:.0f} MB")
    rows, cols = np.nonzero(~np.isnan(scores))
    greedy = greedy_baseline(rows, cols, scores[rows, cols], capacity, n)
    g_total = _total(lambda i, j: scores[i, j], greedy)
    _line("greedy best-first baseline", f"{len(greedy):,} pairs, total {g_total:,.3f}")
    _line("optimum", f"{len(pairs):,} pairs, total {total:,.3f}")
    _line(
        "optimum beats greedy by",
        f"+{len(pairs) - len(greedy)} pairs, {total - g_total:+,.3f} score",
        "",
        len(pairs) > len(greedy) or (len(pairs) == len(greedy) and total >= g_total),
    )
    if places_equal_demand:
        _line("time", f"{seconds:.2f} s (CPU {cpu:.2f} s)", "target < 10 s", seconds < 10)
    else:
        _line(
            "peak memory (whole process, scores included)",
            f"{peak:.0f} MB",
            "target < 1 GB",
            peak < 1000,
        )
    if dense:
        d_pairs, d_seconds, d_peak = _measured(lambda: dense_baseline(scores, capacity))
        d_total = _total(lambda i, j: scores[i, j], d_pairs)
        d_cpu = _last_cpu[0]
        _line(
            "dense scipy baseline (linear_sum_assignment)",
            f"{d_seconds:.2f} s (CPU {d_cpu:.2f} s), {d_peak:.0f} MB",
        )
        ratio = f"x {d_seconds / seconds:.1f} (CPU x {d_cpu / max(cpu, 1e-9):.1f})"
        if not places_equal_demand:
            _line(
                "speed-up over the dense baseline", ratio, "target >= x 3", d_seconds / seconds >= 3
            )
        else:
            _line("speed-up over the dense baseline", ratio)
        # Every family's ratio to dense scipy, as for the adversarial ones below (issue 18).
        _line(
            "ratio to dense (CPU)",
            f"{cpu / max(d_cpu, 1e-9):.2f}",
            "target <= 1.5",
            cpu <= 1.5 * d_cpu + 0.05,
        )
        same = len(d_pairs) == len(pairs) and abs(d_total - total) <= 1e-6
        _line(
            "same optimum as the dense baseline",
            f"{len(d_pairs):,} pairs, total {d_total:,.3f}",
            "",
            same,
        )


def bench_national(n: int, m: int, tiles: int, k: int) -> None:
    print(
        f"\nNational run: {n:,} mentees x {m:,} tutors over {tiles} départements (Gers geography, tiled)"
    )
    (mentees, tutors), made = _timed(lambda: population(n, m, seed=5, tiles=tiles))
    _line("population built (not counted)", f"{made:.1f} s")
    capacity = np.array([t.capacity for t in tutors])
    marks: dict[str, float] = {}
    bar = Progress()

    def progress(stage: str, done: int, total: int) -> None:
        bar(stage, done, total)
        if done >= total:
            marks[stage] = time.perf_counter() - start

    start = time.perf_counter()
    result, seconds, peak = _measured(
        lambda: matching.assign_batch(mentees, tutors, k=k, exact=True, progress=progress)
    )
    first = result.history[0]
    first_time = marks.get("vérification 1", seconds)
    _line(
        "candidate graph (first pass, all feasible pairs)",
        f"{marks.get('candidats', 0):.1f} s, {first.candidate_pairs:,} pairs",
    )
    _line(
        "scored, assigned and bounded (first round)",
        f"{first_time:.1f} s",
        "target < 120 s",
        first_time < 120,
    )
    _line("  pairs / proven maximum", f"{first.pairs:,} / {first.max_pairs:,}")
    if first.score_bound is not None:
        gap = (first.score_bound - first.total_score) / first.score_bound
        _line(
            "  total score / proven upper bound",
            f"{first.total_score:,.2f} / {first.score_bound:,.2f}",
        )
        _line("  remaining gap at most", f"{gap:.4%}")
    _line(
        f"proven optimum ({result.rounds} rounds, exact mode)",
        f"{seconds:.1f} s (CPU {_last_cpu[0]:.1f} s), total {result.total_score:,.2f}",
    )
    _line(
        "  proven optimal over all feasible pairs",
        str(result.proven_optimal),
        "",
        result.proven_optimal,
    )
    _line(
        "peak memory (whole process, people included)",
        f"{peak:.0f} MB",
        "target < 2 GB",
        peak < 2000,
    )
    # Greedy best-first on the candidate graph, for comparison.
    graph = matching.candidate_graph(mentees, tutors, k=k)
    greedy = greedy_baseline(graph.rows, graph.cols, graph.scores, capacity, n)
    lookup = dict(zip((graph.rows * m + graph.cols).tolist(), graph.scores.tolist(), strict=True))
    g_total = sum(lookup[i * m + j] for i, j in greedy)
    _line(
        "greedy best-first on the candidate graph", f"{len(greedy):,} pairs, total {g_total:,.2f}"
    )


def _max_rss_mb() -> float:
    """Peak resident memory of this process since it started (kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _load() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg()) + f" (on {os.cpu_count()} CPU)"
    except OSError:
        return "unknown"


def bench_adversarial(n: int, m: int) -> None:
    """Two families where a sparse method may fall off a cliff: every mentee ranks the tutors the same way
    ("identical rankings"), and each mentee accepts only a prefix of tutors ordered alike ("staircase")."""
    rng = np.random.default_rng(44)
    base = rng.uniform(0.2, 0.9, size=m)
    capacity = rng.integers(1, 4, size=m)
    identical = np.tile(base, (n, 1))
    staircase = np.tile(np.sort(base)[::-1], (n, 1))
    reach = (np.arange(n) * m) // n + 1  # mentee i accepts the first reach[i] tutors
    staircase[np.arange(m)[None, :] >= reach[:, None]] = np.nan
    for name, scores in (("identical rankings", identical), ("staircase", staircase)):
        print(f"\nassign, {n:,} mentees x {m:,} tutors, {name}")
        pairs, seconds, _ = _measured(lambda scores=scores: matching.assign(scores, capacity))
        cpu = _last_cpu[0]
        d_pairs, d_seconds, _ = _measured(lambda scores=scores: dense_baseline(scores, capacity))
        d_cpu = _last_cpu[0]
        total = _total(lambda i, j, scores=scores: scores[i, j], pairs)
        d_total = _total(lambda i, j, scores=scores: scores[i, j], d_pairs)
        _line(
            "assign (exact)",
            f"{seconds:.2f} s (CPU {cpu:.2f} s), {len(pairs):,} pairs, total {total:,.3f}",
        )
        _line(
            "dense scipy baseline",
            f"{d_seconds:.2f} s (CPU {d_cpu:.2f} s), {len(d_pairs):,} pairs, total {d_total:,.3f}",
            "same optimum",
            len(pairs) == len(d_pairs) and abs(total - d_total) < 1e-6,
        )
        _line(
            "ratio to dense (CPU)",
            f"{cpu / max(d_cpu, 1e-9):.2f}",
            "target <= 1.5",
            cpu <= 1.5 * d_cpu + 0.05,
        )
        # With the documented tie rule (tie_order): every optimum ties here, the rule picks one.
        _measured(lambda scores=scores: matching.assign(scores, capacity, tie_order=np.arange(m)))
        _line(
            "assign with the tie rule (tie_order), for information",
            f"CPU {_last_cpu[0]:.2f} s, ratio to dense {_last_cpu[0] / max(d_cpu, 1e-9):.2f}",
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, a few seconds (a smoke test)"
    )
    args = parser.parse_args(argv)
    global _CHECK_TARGETS
    _CHECK_TARGETS = not args.quick
    print(
        f"matching benchmark{' (quick)' if args.quick else ''}: numpy {np.__version__}, "
        f"scipy {scipy.__version__}; load average at the start: {_load()}"
    )
    if args.quick:
        bench_scores(1_000, 600)
        bench_top(3_000, 1, 200)
        bench_top(20_000, 20, 100)
        bench_assign(1_500, 500, False, dense=True)
        bench_assign(1_000, 500, True, dense=True)
        bench_national(10_000, 3_000, 10, 10)
        bench_adversarial(1_000, 200)
    else:
        bench_scores(10_000, 3_000)
        bench_top(3_000, 1, 1_000)
        bench_top(100_000, 100, 500)
        bench_assign(10_000, 3_000, False, dense=True)
        bench_assign(10_000, 5_000, True, dense=True)
        bench_national(100_000, 30_000, 100, 10)
        bench_adversarial(3_000, 600)
    print(f"\nload average at the end: {_load()}")
    print(f"peak resident memory of the whole benchmark (resource): {_max_rss_mb():.0f} MB")
    print(
        "\n" + ("All targets met." if not _failures else f"Targets missed: {', '.join(_failures)}")
    )
    return 0


# --------------------------------------------------------------------------------------------
# Embedded reference data (Licence Ouverte / Etalab 2.0): the 458 Gers communes as
# "latitude,longitude,population;" (centroids from IGN ADMIN EXPRESS, populations INSEE 2023,
# see tutorat/data/PROVENANCE.md) and the 532 ROME métier codes (France Travail).
# --------------------------------------------------------------------------------------------

_GERS_COMMUNES = (
    "43.6943,0.0873,720;43.6865,0.7813,75;43.7300,0.4443,40;43.7056,-0.1727,134;"
    "43.7411,-0.0619,308;43.7234,0.9986,217;43.5221,0.0971,73;43.5727,0.1867,96;"
    "43.3604,0.5834,85;43.6535,0.7845,1134;43.6533,0.5750,22428;43.7238,0.7731,132;"
    "43.3757,0.5014,89;43.5586,1.0736,679;43.6204,-0.2020,131;43.5649,0.8291,211;"
    "43.5803,0.6323,529;43.4410,0.2632,269;43.8305,0.9014,73;43.7561,0.0663,186;"
    "43.8832,0.8012,86;43.8326,0.4190,156;43.8584,-0.0254,158;43.8102,0.7663,104;"
    "43.6931,-0.2126,1401;43.3745,0.3980,104;43.6221,0.4485,692;43.5111,0.3025,123;"
    "43.7944,0.1362,170;43.5752,0.2508,334;43.6686,0.3171,97;43.4515,0.3413,63;"
    "43.8368,0.3763,255;43.5865,0.1065,689;43.9379,0.2914,122;43.6446,1.0138,210;"
    "43.4322,0.1565,122;43.5736,0.7915,135;43.4276,0.6321,157;43.4570,0.4374,136;"
    "43.6880,0.2478,149;43.9247,0.4069,299;43.4718,0.3998,424;43.6702,-0.2209,182;"
    "44.0110,0.5497,110;43.4458,0.6834,92;43.7181,0.0257,78;43.4183,0.2093,104;"
    "43.5357,0.8808,105;43.8198,0.3488,129;43.3878,0.6083,188;43.6946,0.4034,379;"
    "43.8295,0.8062,111;43.6739,0.8072,42;43.9258,0.4847,126;43.4588,0.1938,32;"
    "43.7789,0.4051,106;43.5622,0.6195,207;43.5508,0.7653,171;43.8270,-0.0081,165;"
    "43.6877,0.0282,159;43.8891,0.1354,408;43.6610,0.3958,235;43.8415,0.7224,254;"
    "43.8301,0.7686,150;43.4205,0.8421,85;43.6369,-0.0274,204;43.7058,0.3375,162;"
    "43.6324,0.2653,55;43.8606,0.0080,213;43.9036,0.3445,225;43.5815,0.7237,596;"
    "43.6163,0.2962,93;43.8843,0.6912,223;43.9504,0.1092,1187;43.9635,0.4721,150;"
    "43.6732,0.1376,108;43.9890,0.6118,329;43.8014,0.4337,1041;43.9030,0.8685,54;"
    "43.9814,0.7227,168;43.3814,0.3122,75;43.8688,-0.1662,144;43.7310,0.2196,337;"
    "43.7164,0.5415,222;43.5641,0.9839,332;43.6942,0.5359,337;43.6565,0.9617,105;"
    "43.6914,-0.1090,103;43.7845,-0.0704,446;43.9471,0.4412,598;43.9249,-0.0289,1665;"
    "43.6565,0.2657,112;43.5457,0.9785,326;43.4474,0.1743,72;43.8890,0.1642,157;"
    "43.8152,0.6984,229;43.8037,0.4979,201;43.3513,0.5449,172;43.4766,0.5241,164;"
    "43.6220,1.0141,387;43.7174,0.9749,947;43.9717,0.3742,6473;43.6541,-0.1854,155;"
    "43.6352,0.1137,207;43.8427,0.2424,391;43.5740,0.1535,46;43.7154,0.7310,264;"
    "43.7737,0.0293,95;43.3522,0.4514,127;43.7616,0.1663,317;43.3412,0.4188,121;"
    "43.6723,0.5620,862;43.5393,0.5657,135;43.8607,0.1056,4108;43.6940,1.0321,445;"
    "43.5444,1.0221,542;43.4158,0.5518,335;43.6453,0.9121,579;43.4292,0.8704,186;"
    "43.7783,0.0954,136;43.4008,0.2789,162;43.8726,-0.1043,668;43.5488,0.3876,204;"
    "43.8352,0.8491,119;43.5060,0.6907,212;44.0211,0.7919,133;43.8401,0.6423,6247;"
    "43.9952,0.2286,260;43.5770,0.9548,369;43.6862,0.0061,125;43.6126,0.0143,186;"
    "43.4178,0.9073,146;43.8847,0.8461,101;43.4748,0.8258,76;43.4017,0.7266,122;"
    "43.7767,0.6597,136;44.0132,0.4631,252;43.6019,0.1965,72;43.6757,-0.1873,45;"
    "44.0371,0.7190,295;43.6209,0.8797,3146;43.6069,0.9343,84;43.8788,0.2604,1175;"
    "43.8096,0.7317,212;43.6170,-0.0227,65;43.4166,0.1618,363;43.5556,0.6670,152;"
    "43.8127,0.8510,109;43.7697,-0.1855,1202;43.5147,0.4644,212;43.6158,0.7843,180;"
    "43.9240,0.7343,252;43.5849,0.4147,529;43.6144,1.0813,9537;43.6554,-0.0180,86;"
    "43.7570,0.4455,1176;43.5762,0.0146,286;43.5418,0.1228,116;43.6065,0.8261,227;"
    "43.8146,0.3024,108;43.4716,0.3010,310;43.4715,0.5774,148;43.6283,-0.1643,145;"
    "43.5216,0.9774,193;43.5373,0.5101,290;43.7634,0.8812,212;43.5508,0.0843,223;"
    "43.5366,0.0602,213;43.9690,0.5652,123;43.4092,0.5006,164;43.8422,0.3223,77;"
    "43.8904,0.2008,560;43.4164,0.2512,248;43.5629,0.8979,181;43.6576,0.6804,235;"
    "43.8044,0.6764,134;43.3264,0.6404,149;43.4869,0.6827,81;43.5613,0.4521,129;"
    "43.8688,0.5701,82;43.8988,-0.2113,105;43.8079,0.2250,528;43.7420,-0.1024,141;"
    "43.6448,-0.2235,216;43.9074,-0.0554,237;43.9372,0.3166,213;43.9882,0.5455,44;"
    "43.8297,0.4683,162;43.9759,0.2820,213;43.5347,0.7102,198;43.6298,0.0605,177;"
    "43.6033,0.5264,358;43.5731,0.5753,337;43.8028,-0.1157,294;43.9238,0.2568,245;"
    "43.7657,0.5199,363;43.5266,0.2136,103;43.4212,0.9949,232;43.6710,0.6591,346;"
    "43.9402,0.6506,3670;43.7069,-0.1349,273;43.5679,1.1328,794;43.8618,-0.0624,201;"
    "44.0418,0.4836,208;43.4667,0.9023,2233;43.7444,0.0317,117;43.5010,0.5118,162;"
    "43.4571,0.5462,150;43.5991,0.1564,63;43.6570,0.0783,72;43.6884,0.1875,310;"
    "43.7354,-0.1431,133;43.6201,0.7400,216;43.7627,-0.1162,230;43.8933,0.7237,56;"
    "43.8883,0.3998,220;43.4318,0.1936,100;43.3672,0.3688,82;43.8177,0.0583,758;"
    "43.3342,0.6041,85;43.7435,0.8109,55;43.8740,0.3323,45;43.7785,0.3233,419;43.7608,0.7638,50;"
    "43.5212,0.1564,1213;43.5838,1.0152,331;43.7255,0.1175,163;43.8815,-0.0389,56;"
    "43.6478,0.7238,461;43.4883,0.3120,82;43.9408,0.5367,438;43.5517,0.2237,56;"
    "43.8911,0.5057,167;43.4320,0.5858,1511;43.9065,-0.1536,265;43.6864,-0.0858,155;"
    "43.6084,-0.0918,139;43.8432,-0.1287,198;43.5846,0.9172,304;43.9070,0.8242,143;"
    "43.7320,0.8657,2274;43.4226,0.6773,75;43.7506,0.5502,66;43.4290,0.3106,1129;"
    "43.9947,0.7588,530;43.5468,0.4666,357;43.7760,0.6873,141;43.5187,0.4105,3457;"
    "43.6244,0.3837,67;43.7445,0.6698,227;43.4648,0.9926,394;43.6652,1.0310,394;"
    "43.4492,0.4746,123;43.9129,-0.0997,217;43.5229,0.3410,111;43.4524,0.6510,151;"
    "43.4945,0.6399,110;43.6129,0.9810,790;43.7915,0.8256,515;43.5011,0.8117,91;"
    "43.8540,-0.1888,282;43.3486,0.5125,163;43.4956,0.2167,157;43.8238,-0.1464,188;"
    "43.4636,0.2455,35;43.4352,0.9046,66;43.4873,0.8546,105;43.3994,0.4217,122;"
    "43.7017,0.6660,697;43.3325,0.5774,90;43.3879,0.3716,106;43.6420,0.6689,719;"
    "43.3833,0.2255,280;43.4375,0.9594,68;43.5778,0.3327,567;43.7936,0.6285,695;"
    "43.3919,0.6811,83;43.5880,0.8568,137;43.3890,0.9769,237;43.9511,0.2000,1171;"
    "43.7959,-0.1515,107;43.8995,0.3064,376;43.5577,0.4214,82;43.8004,0.2877,70;"
    "43.4962,0.9869,141;43.7614,-0.0304,2238;43.5321,0.9365,388;43.6900,0.7176,386;"
    "43.8046,0.1613,100;43.5465,0.6157,269;43.6838,0.4771,858;43.5130,0.5974,202;"
    "43.5038,0.2660,61;43.3845,0.5680,278;43.8277,-0.0756,431;43.8840,0.6211,596;"
    "43.6055,0.5893,2566;43.4604,1.0261,96;43.4789,0.7910,103;43.7764,-0.1398,104;"
    "44.0551,0.5959,336;43.6086,0.6649,648;43.8574,0.8814,137;43.9963,0.8100,70;"
    "43.6300,0.2223,147;43.7388,0.5570,117;43.6276,0.1756,63;43.7856,0.7090,93;"
    "43.6007,0.0439,1430;43.9528,0.7421,159;43.5343,0.8395,263;43.5158,1.0038,205;"
    "43.4587,0.3705,98;43.3507,0.4791,80;43.6587,0.0364,120;43.5448,0.3027,143;43.4653,0.6108,85;"
    "44.0387,0.5215,114;43.7937,0.5720,150;43.6017,0.0008,197;43.7208,0.6365,1202;"
    "43.7273,0.2692,119;43.6071,-0.2328,182;43.5897,1.1713,1750;43.7472,0.7472,420;"
    "43.4439,0.9349,165;43.7732,0.5909,72;43.8103,0.1901,190;43.6448,0.9860,263;"
    "43.8709,0.0381,297;43.8137,0.5499,246;43.4883,0.1779,44;43.6535,0.3380,164;"
    "43.6410,-0.0754,1622;43.9870,0.5040,540;43.7093,0.2950,207;43.7571,0.5884,275;"
    "43.7239,0.5934,563;43.6641,0.9852,102;43.9081,0.4677,42;43.8418,0.2976,103;"
    "43.8014,0.3606,113;43.4415,0.8121,153;43.7092,0.0525,126;43.3961,0.3432,79;"
    "43.5591,0.8579,124;43.7456,0.9684,123;44.0399,0.8275,194;43.7201,0.8222,156;"
    "43.6246,0.3476,134;43.4358,0.5201,125;43.5733,0.0575,151;43.3711,0.4289,89;"
    "43.9830,0.6603,97;43.3612,0.6680,460;43.7827,0.7692,70;43.5261,0.2615,64;43.7568,0.6321,541;"
    "43.7942,-0.0049,382;43.8923,0.7612,1062;43.9169,0.7928,86;43.6982,0.9893,293;"
    "43.4164,0.3646,230;43.4956,0.7685,187;43.4284,0.4735,85;43.7727,0.7937,121;"
    "43.7351,0.9301,198;43.6748,-0.1466,515;43.6738,0.9585,212;43.7247,-0.0965,142;"
    "43.5736,0.5149,381;43.7343,0.3820,310;43.4836,0.1486,137;43.7201,0.4981,271;"
    "43.8572,0.7697,184;43.4102,0.9480,148;43.4403,1.0063,96;43.6721,0.8671,386;"
    "43.5077,0.3745,434;43.7112,-0.0639,230;44.0033,0.5739,129;43.5199,0.8105,87;"
    "43.4854,0.3463,135;43.4842,0.4622,343;44.0020,0.6836,200;44.0337,0.5692,240;"
    "43.4313,0.4049,252;43.6437,-0.1403,317;43.7127,0.9160,82;43.9122,0.4380,161;"
    "43.3757,0.4650,95;43.7807,0.3726,108;43.6497,0.1620,60;43.8685,0.4593,587;"
    "43.8415,0.5858,172;43.6988,0.8125,355;43.5084,0.8603,152;43.8112,-0.0431,116;"
    "43.3917,0.5304,74;43.4939,0.9340,2517;43.5277,0.6130,102;43.5244,0.7603,864;"
    "43.6842,-0.0508,217;43.3646,0.3395,88;43.7703,0.9285,358;43.8491,0.5338,403;"
    "43.4553,0.8470,278;43.4095,0.4571,103;43.4491,0.9673,65;43.4855,1.0107,146;"
    "43.5570,0.1987,44;43.7511,0.1142,70;43.6297,-0.2613,256;43.6305,1.1317,1197;"
    "43.4984,0.5708,1097;43.4631,0.1724,58;43.5040,0.7351,53;44.0214,0.6411,323;"
    "43.4047,0.6456,78;43.7614,0.8208,42;43.5117,1.0456,244;43.4575,0.7364,688;43.7384,0.0068,99;"
    "43.7030,0.9537,164;43.8032,0.8869,496;43.7136,-0.0162,203;43.4724,0.6590,115;"
    "43.6673,-0.1120,164;43.6371,0.0108,243;43.7861,0.7416,68;43.9026,0.5541,352;"
    "43.6738,-0.0143,207;43.6822,0.9923,260;43.5522,0.0321,158;43.4788,0.2650,281;"
    "43.5460,0.7936,75;43.6868,0.9181,495;43.8218,-0.1783,293;43.5471,0.1587,117;"
    "43.4245,0.7919,175;43.8618,0.8274,262;43.7489,0.7014,99;43.5310,0.6498,71;"
    "43.4545,0.2206,159;43.6819,0.2868,56;43.8623,0.7123,264;43.7385,-0.0216,240;"
    "43.8680,0.3638,1147;43.7237,-0.1872,324;43.5999,-0.1996,124;43.7617,0.2983,3577;"
    "43.6003,-0.1388,530;43.4001,0.2009,831;43.4216,0.7355,169;43.3948,0.4699,92;"
    "43.5941,0.7932,148;43.3752,0.6409,64;"
)
_ROME_METIERS = (  # noqa: SIM905 - compact on purpose
    "A1101 A1201 A1202 A1203 A1204 A1205 A1301 A1302 A1303 A1401 A1402 A1403 A1404 A1405 A1406 "
    "A1407 A1408 A1409 A1410 A1411 A1412 A1413 A1414 A1415 A1416 A1417 A1501 A1502 A1503 A1504 "
    "B1101 B1201 B1301 B1302 B1303 B1401 B1402 B1501 B1601 B1602 B1603 B1604 B1701 B1801 B1802 "
    "B1803 B1804 B1805 B1806 C1101 C1102 C1103 C1104 C1105 C1106 C1107 C1108 C1109 C1110 C1201 "
    "C1202 C1203 C1204 C1205 C1206 C1207 C1301 C1302 C1303 C1401 C1501 C1502 C1503 C1504 D1101 "
    "D1102 D1103 D1104 D1105 D1106 D1107 D1201 D1202 D1203 D1204 D1205 D1206 D1207 D1208 D1209 "
    "D1210 D1211 D1212 D1213 D1214 D1301 D1401 D1402 D1403 D1404 D1405 D1406 D1407 D1408 D1501 "
    "D1502 D1503 D1504 D1505 D1506 D1507 D1508 D1509 E1101 E1102 E1103 E1104 E1105 E1106 E1107 "
    "E1108 E1201 E1202 E1203 E1204 E1205 E1301 E1302 E1303 E1304 E1305 E1306 E1307 E1308 E1401 "
    "E1402 F1101 F1102 F1103 F1104 F1105 F1106 F1107 F1108 F1201 F1202 F1203 F1204 F1301 F1302 "
    "F1401 F1402 F1501 F1502 F1503 F1601 F1602 F1603 F1604 F1605 F1606 F1607 F1608 F1609 F1610 "
    "F1611 F1612 F1613 F1701 F1702 F1703 F1704 F1705 F1706 G1101 G1102 G1201 G1202 G1203 G1204 "
    "G1205 G1206 G1301 G1302 G1303 G1401 G1402 G1403 G1404 G1501 G1502 G1503 G1601 G1602 G1603 "
    "G1604 G1605 G1701 G1702 G1703 G1801 G1802 G1803 G1804 H1101 H1102 H1201 H1202 H1203 H1204 "
    "H1205 H1206 H1207 H1208 H1209 H1210 H1301 H1302 H1303 H1401 H1402 H1403 H1404 H1501 H1502 "
    "H1503 H1504 H1505 H1506 H2101 H2102 H2201 H2202 H2203 H2204 H2205 H2206 H2207 H2208 H2209 "
    "H2301 H2401 H2402 H2403 H2404 H2405 H2406 H2407 H2408 H2409 H2410 H2411 H2412 H2413 H2414 "
    "H2415 H2501 H2502 H2503 H2504 H2505 H2601 H2602 H2603 H2604 H2605 H2701 H2801 H2802 H2803 "
    "H2804 H2805 H2901 H2902 H2903 H2904 H2905 H2906 H2907 H2908 H2909 H2910 H2911 H2912 H2913 "
    "H2914 H3101 H3102 H3201 H3202 H3203 H3301 H3302 H3303 H3401 H3402 H3403 H3404 I1101 I1102 "
    "I1103 I1201 I1202 I1203 I1301 I1302 I1303 I1304 I1305 I1306 I1307 I1308 I1309 I1310 I1401 "
    "I1402 I1501 I1502 I1503 I1601 I1602 I1603 I1604 I1605 I1606 I1607 J1101 J1102 J1103 J1104 "
    "J1201 J1202 J1301 J1302 J1303 J1304 J1305 J1306 J1307 J1401 J1402 J1403 J1404 J1405 J1406 "
    "J1407 J1408 J1409 J1410 J1411 J1412 J1501 J1502 J1503 J1504 J1505 J1506 J1507 K1101 K1102 "
    "K1103 K1104 K1201 K1202 K1203 K1204 K1205 K1206 K1207 K1301 K1302 K1303 K1304 K1305 K1401 "
    "K1402 K1403 K1404 K1405 K1501 K1502 K1503 K1504 K1505 K1601 K1602 K1701 K1702 K1703 K1704 "
    "K1705 K1706 K1707 K1801 K1802 K1901 K1902 K1903 K1904 K2101 K2102 K2103 K2104 K2105 K2106 "
    "K2107 K2108 K2109 K2110 K2111 K2112 K2201 K2202 K2203 K2204 K2301 K2302 K2303 K2304 K2305 "
    "K2306 K2401 K2402 K2501 K2502 K2503 K2601 K2602 K2603 L1101 L1102 L1103 L1201 L1202 L1203 "
    "L1204 L1301 L1302 L1303 L1304 L1401 L1501 L1502 L1503 L1504 L1505 L1506 L1507 L1508 L1509 "
    "L1510 M1101 M1102 M1201 M1202 M1203 M1204 M1205 M1206 M1207 M1301 M1302 M1401 M1402 M1403 "
    "M1404 M1501 M1502 M1503 M1601 M1602 M1603 M1604 M1605 M1606 M1607 M1608 M1609 M1701 M1702 "
    "M1703 M1704 M1705 M1706 M1707 M1801 M1802 M1803 M1804 M1805 M1806 M1807 M1808 M1809 M1810 "
    "N1101 N1102 N1103 N1104 N1105 N1201 N1202 N1301 N1302 N1303 N2101 N2102 N2201 N2202 N2203 "
    "N2204 N2205 N3101 N3102 N3103 N3201 N3202 N3203 N4101 N4102 N4103 N4104 N4105 N4201 N4202 "
    "N4203 N4204 N4301 N4302 N4401 N4402 N4403 "
).split()


if __name__ == "__main__":
    raise SystemExit(main())
