"""What référents' decisions and binômes' outcomes say about the score's weights (scikit-learn, no I/O).

Two questions, each answered with its uncertainty, never as a decision: a person (the admin) decides.

* **The weights référents apply in practice.** Each proposal records the candidates the référent was shown and the
  parts of their scores. A référent who picks candidate *c* among shown candidates *s* prefers *c* to each *s*; with
  a linear utility ``u = β · parts`` that preference is ``β · (parts_c − parts_s) > 0``. A logistic regression
  without intercept on these differences (and their mirror images, labelled 0) estimates β; the shares of the
  positive β are comparable with the official weights. Bootstrap over decisions gives the intervals.
* **What predicts a good outcome.** A logistic regression of "positive outcome" (a job, a training…) versus
  "stopped or declined" on the same parts, judged by cross-validated ROC AUC against a permutation test: when it does
  no better than labels shuffled at random, that is what is reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from matching.types import Weights

__all__ = [
    "MIN_DECISIONS",
    "MIN_OUTCOMES",
    "ChoiceFit",
    "Decision",
    "SuccessFit",
    "fit_choices",
    "fit_success",
    "suggest_weights",
]

PARTS = Weights.PARTS
MIN_DECISIONS = 30  # below this, "pas assez de décisions" rather than noise
MIN_OUTCOMES = 40  # ended binômes, with at least 10 of each kind
MIN_EACH_OUTCOME = 10


@dataclass(frozen=True)
class Decision:
    """One proposal: the parts of the chosen candidate and of the other candidates shown beside it.

    Parts are in `PARTS` order, each in [0, 1].
    """

    chosen: tuple[float, ...]
    others: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class ChoiceFit:
    """The weights référents apply in practice.

    ``shares[p]`` is part ``p``'s share of the positive coefficients (comparable with official weights that add up to
    1); ``intervals[p]`` its 95 % bootstrap interval; ``coefficients`` and ``coefficient_intervals`` the raw β.
    ``signal`` is False unless the model fits the real choices better than every one of 99 random re-draws of
    the chosen candidate among those shown (permutation test, ``p_value`` ≤ 0.01): otherwise choices look random
    with respect to the parts.
    """

    decisions: int
    comparisons: int
    enough: bool
    shares: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    coefficients: dict[str, float] = field(default_factory=dict)
    coefficient_intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    p_value: float | None = None
    signal: bool = False


@dataclass(frozen=True)
class SuccessFit:
    """What predicts a positive outcome: cross-validated AUC, its permutation p-value, and the coefficients."""

    outcomes: int
    positives: int
    enough: bool
    auc: float | None = None
    p_value: float | None = None
    better_than_chance: bool = False
    coefficients: dict[str, float] = field(default_factory=dict)


def _check_parts(row: Sequence[float]) -> np.ndarray:
    values = np.asarray(row, dtype=np.float64)
    if values.shape != (len(PARTS),):
        raise ValueError(
            f"parts must have {len(PARTS)} values ({', '.join(PARTS)}), got {len(values)}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("parts must be finite numbers")
    return values


def _differences(decisions: Sequence[Decision]) -> tuple[np.ndarray, np.ndarray]:
    """Rows chosen − other, with the decision each comes from."""
    rows, owner = [], []
    for i, decision in enumerate(decisions):
        chosen = _check_parts(decision.chosen)
        for other in decision.others:
            rows.append(chosen - _check_parts(other))
            owner.append(i)
    if not rows:
        return np.zeros((0, len(PARTS))), np.zeros(0, dtype=np.int64)
    return np.array(rows), np.array(owner, dtype=np.int64)


C = 10.0  # inverse strength of the L2 penalty: mild, it only keeps nearly separable choices finite


def newton_logit(x: np.ndarray, y: np.ndarray, *, intercept: bool, c: float = C) -> np.ndarray:
    """The same fit as scikit-learn's ``LogisticRegression(C=c)`` (L2 penalty, intercept unpenalised), by Newton.

    scikit-learn fits the models shown; the hundreds of refits of the bootstrap and the permutation tests use this
    one, ~30 times faster on 4 features (a test checks both give the same coefficients). Returns the coefficients,
    then the intercept when `intercept`.
    """
    xs = np.hstack([x, np.ones((len(x), 1))]) if intercept else x
    d = xs.shape[1]
    penalty = np.ones(d)
    if intercept:
        penalty[-1] = 0.0
    w = np.zeros(d)
    for _ in range(100):
        p = 0.5 * (1.0 + np.tanh(0.5 * (xs @ w)))  # the logistic function, without overflow
        grad = penalty * w + c * (xs.T @ (p - y))
        hess = np.diag(penalty) + c * (xs.T * (p * (1 - p))) @ xs
        step = np.linalg.solve(hess + 1e-12 * np.eye(d), grad)
        w -= step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return w


def _mirrored(diffs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.vstack([diffs, -diffs])
    y = np.concatenate([np.ones(len(diffs)), np.zeros(len(diffs))])
    return x, y


def _gain(diffs: np.ndarray, beta: np.ndarray) -> float:
    """Mean log-likelihood gain over "every shown candidate equally likely" (log 2 per comparison)."""
    return float(np.mean(-np.logaddexp(0.0, -(diffs @ beta))) + math.log(2.0))


def _choice_coefficients(diffs: np.ndarray) -> np.ndarray:
    return newton_logit(*_mirrored(diffs), intercept=False)


def _shares(coefficients: np.ndarray) -> np.ndarray:
    positive = np.clip(coefficients, 0.0, None)
    total = positive.sum()
    return positive / total if total > 0 else np.zeros_like(positive)


def fit_choices(
    decisions: Sequence[Decision],
    *,
    min_decisions: int = MIN_DECISIONS,
    bootstrap: int = 100,
    permutations: int = 99,
    seed: int = 0,
) -> ChoiceFit:
    """Estimate the weights référents apply from their decisions.

    Parameters
    ----------
    decisions : sequence of Decision
        One per proposal made from a ranked list; a decision with no other candidate shown says nothing and is
        ignored.
    min_decisions : int
        Below this many informative decisions, ``enough`` is False and nothing is estimated.
    bootstrap : int
        Resamples (of decisions, with replacement) for the intervals.
    permutations : int
        Random re-draws of the chosen candidates for the signal's p-value.
    seed : int
        Seed of the resampling: the same decisions give the same report.

    Returns
    -------
    ChoiceFit
    """
    informative = [d for d in decisions if d.others]
    diffs, owner = _differences(informative)
    n = len(informative)
    if n < min_decisions or not np.any(diffs):
        return ChoiceFit(n, len(diffs), False)
    model = LogisticRegression(fit_intercept=False, C=C, solver="newton-cholesky", max_iter=200)
    beta = np.asarray(model.fit(*_mirrored(diffs)).coef_[0], dtype=np.float64)
    gain = _gain(diffs, beta)
    rng = np.random.default_rng(seed)
    # The signal: a permutation test. Under "référents choose at random among what they are shown", any shown
    # candidate is as likely to be the chosen one; the model must fit the real choices better than it fits
    # `permutations` such random choices (p ≤ 0.01).
    candidates = [
        np.vstack([_check_parts(d.chosen), *(_check_parts(o) for o in d.others)])
        for d in informative
    ]
    beaten = 0
    for _ in range(permutations):
        rows = []
        for cand in candidates:
            pick = int(rng.integers(0, len(cand)))
            rows.append(cand[pick] - np.delete(cand, pick, axis=0))
        shuffled = np.vstack(rows)
        if np.any(shuffled) and _gain(shuffled, _choice_coefficients(shuffled)) >= gain:
            beaten += 1
    p_value = (1 + beaten) / (1 + permutations)
    by_decision = [np.flatnonzero(owner == i) for i in range(n)]
    samples = []
    for _ in range(bootstrap):
        picked = rng.integers(0, n, size=n)
        sample = diffs[np.concatenate([by_decision[i] for i in picked])]
        if not np.any(sample):
            continue
        samples.append(_choice_coefficients(sample))
    boot = np.array(samples) if samples else beta[None, :]
    shares = _shares(beta)
    boot_shares = np.array([_shares(b) for b in boot])
    lo, hi = np.percentile(boot_shares, [2.5, 97.5], axis=0)
    c_lo, c_hi = np.percentile(boot, [2.5, 97.5], axis=0)
    return ChoiceFit(
        decisions=n,
        comparisons=len(diffs),
        enough=True,
        shares={p: float(shares[k]) for k, p in enumerate(PARTS)},
        intervals={p: (float(lo[k]), float(hi[k])) for k, p in enumerate(PARTS)},
        coefficients={p: float(beta[k]) for k, p in enumerate(PARTS)},
        coefficient_intervals={p: (float(c_lo[k]), float(c_hi[k])) for k, p in enumerate(PARTS)},
        p_value=p_value,
        signal=p_value <= 0.01,
    )


def fit_success(
    parts: Sequence[Sequence[float]],
    positive: Sequence[bool],
    *,
    min_outcomes: int = MIN_OUTCOMES,
    permutations: int = 99,
    seed: int = 0,
) -> SuccessFit:
    """How well the parts of a binôme's score predict a positive outcome, cross-validated.

    Parameters
    ----------
    parts : sequence of rows
        The parts of each ended binôme's score, in `PARTS` order.
    positive : sequence of bool
        True for a positive outcome (a job, a training, rights…), False for stopped or declined.
    min_outcomes : int
        Below this many binômes (or 10 of either kind), ``enough`` is False.
    permutations : int
        Label shuffles for the p-value of the AUC.
    seed : int
        Seed of the folds and shuffles.

    Returns
    -------
    SuccessFit
        ``better_than_chance`` only when the AUC beats the shuffled labels (p < 0.05) and exceeds 0.55.
    """
    x = np.array([_check_parts(row) for row in parts]).reshape(-1, len(PARTS))
    y = np.asarray(positive, dtype=bool)
    if len(x) != len(y):
        raise ValueError("one outcome per row of parts")
    n, n_pos = len(y), int(y.sum())
    if n < min_outcomes or min(n_pos, n - n_pos) < MIN_EACH_OUTCOME:
        return SuccessFit(n, n_pos, False)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)

    def cv_scores(labels: np.ndarray) -> np.ndarray:
        scores = np.empty(len(labels))
        for train, test in folds.split(x, labels):
            w = newton_logit(x[train], labels[train].astype(np.float64), intercept=True, c=1.0)
            scores[test] = x[test] @ w[:-1] + w[-1]  # the AUC needs only the order
        return scores

    auc = float(roc_auc_score(y, cv_scores(y)))
    rng = np.random.default_rng(seed)
    shuffled = []
    for _ in range(permutations):
        labels = rng.permutation(y)
        shuffled.append(rank_auc(labels, cv_scores(labels)))
    p_value = (1 + sum(s >= auc for s in shuffled)) / (1 + permutations)
    model = LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=200).fit(x, y)
    return SuccessFit(
        outcomes=n,
        positives=n_pos,
        enough=True,
        auc=auc,
        p_value=p_value,
        better_than_chance=p_value < 0.05 and auc > 0.55,
        coefficients={p: float(model.coef_[0][k]) for k, p in enumerate(PARTS)},
    )


def rank_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann–Whitney) formula: ``roc_auc_score`` without its input checks, for resamples."""
    labels = np.asarray(labels, dtype=bool)
    ranks = rankdata(scores)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def suggest_weights(fit: ChoiceFit, step: float = 0.05) -> Weights | None:
    """Weights for the admin to consider: the practice shares rounded to `step`, or None without a signal.

    Every part keeps at least `step` so that no criterion disappears from the score by a rounding.
    """
    if not fit.enough or not fit.signal:
        return None
    raw = np.array([max(fit.shares[p], step) for p in PARTS])
    raw = raw / raw.sum()
    rounded = np.maximum(np.round(raw / step) * step, step)
    # Keep the total at 1 by moving the rounding error onto the largest part.
    rounded[int(np.argmax(rounded))] += 1.0 - rounded.sum()
    return Weights(**{p: round(float(v), 4) for p, v in zip(PARTS, rounded, strict=True)})
