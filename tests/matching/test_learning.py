"""matching.learning: the choice model recovers a known preference and reports none on random choices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import Weights
from matching.learning import (
    PARTS,
    Decision,
    fit_choices,
    fit_success,
    suggest_weights,
)


def simulate(n: int, preference: dict[str, float], seed: int, shown: int = 5, noise: float = 0.05):
    """Référents who pick, among `shown` candidates, the best by `preference` (with a little noise)."""
    rng = np.random.default_rng(seed)
    beta = np.array([preference[p] for p in PARTS])
    out = []
    for _ in range(n):
        parts = rng.uniform(0, 1, size=(shown, len(PARTS)))
        utility = parts @ beta + rng.gumbel(0, noise, size=shown)
        best = int(np.argmax(utility))
        out.append(
            Decision(tuple(parts[best]), tuple(tuple(parts[j]) for j in range(shown) if j != best))
        )
    return out


def test_recovers_a_preference_for_distance():
    # The demo's référents weigh distance twice as much as the official 0.30.
    truth = {"distance": 0.55, "sector": 0.20, "availability": 0.10, "experience": 0.15}
    fit = fit_choices(simulate(300, truth, seed=1), bootstrap=60)
    assert fit.enough and fit.signal
    for part in PARTS:
        assert abs(fit.shares[part] - truth[part]) < 0.08, (part, fit.shares)
        lo, hi = fit.intervals[part]
        assert lo <= fit.shares[part] <= hi
    assert max(fit.shares, key=fit.shares.get) == "distance"
    suggestion = suggest_weights(fit)
    assert suggestion is not None and suggestion.distance > Weights().distance
    assert abs(suggestion.total - 1.0) < 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_random_choices_show_no_signal(seed):
    rng = np.random.default_rng(100 + seed)
    decisions = []
    for _ in range(200):
        parts = rng.uniform(0, 1, size=(5, len(PARTS)))
        pick = int(rng.integers(0, 5))
        decisions.append(
            Decision(tuple(parts[pick]), tuple(tuple(parts[j]) for j in range(5) if j != pick))
        )
    fit = fit_choices(decisions, bootstrap=60, seed=seed)
    assert fit.enough and not fit.signal, fit.coefficient_intervals
    assert suggest_weights(fit) is None


def test_too_few_decisions_says_so():
    fit = fit_choices(simulate(10, dict.fromkeys(PARTS, 0.25), seed=2))
    assert not fit.enough and fit.shares == {}
    # A proposal with nothing else shown is not a choice.
    lonely = [Decision((0.5, 0.5, 0.5, 0.5), ()) for _ in range(100)]
    assert fit_choices(lonely).decisions == 0


def test_bad_parts_are_refused():
    with pytest.raises(ValueError):
        fit_choices([Decision((0.1, 0.2), ((0.1, 0.2),))] * 40)
    with pytest.raises(ValueError):
        fit_choices([Decision((float("nan"), 0, 0, 0), ((0, 0, 0, 0),))] * 40)


def test_success_model_finds_a_real_effect_and_says_when_there_is_none():
    rng = np.random.default_rng(3)
    parts = rng.uniform(0, 1, size=(300, len(PARTS)))
    # Success depends on availability (more common slots, more meetings).
    positive = rng.uniform(0, 1, size=300) < 0.15 + 0.7 * parts[:, 2]
    fit = fit_success(parts.tolist(), positive.tolist(), permutations=30)
    assert fit.enough and fit.better_than_chance and fit.auc > 0.65
    assert max(fit.coefficients, key=fit.coefficients.get) == "availability"
    noise = rng.uniform(0, 1, size=300) < 0.4
    fit = fit_success(parts.tolist(), noise.tolist(), permutations=30)
    assert fit.enough and not fit.better_than_chance
    assert not fit_success(parts[:20].tolist(), noise[:20].tolist()).enough


@pytest.mark.parametrize(("intercept", "c"), [(False, 10.0), (True, 1.0)])
def test_the_fast_refit_is_scikit_learns_fit(intercept, c):
    from sklearn.linear_model import LogisticRegression

    from matching.learning import newton_logit

    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 4))
    y = (rng.uniform(size=400) < 1 / (1 + np.exp(-(x @ [1.5, -0.5, 0.2, 0.0] + 0.3)))).astype(float)
    ours = newton_logit(x, y, intercept=intercept, c=c)
    model = LogisticRegression(C=c, fit_intercept=intercept, tol=1e-10, max_iter=1000).fit(x, y)
    theirs = np.concatenate([model.coef_[0], model.intercept_ if intercept else []])
    assert np.allclose(ours, theirs, atol=1e-4), (ours, theirs)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000))
def test_rank_auc_is_roc_auc_score(seed):
    from sklearn.metrics import roc_auc_score

    from matching.learning import rank_auc

    rng = np.random.default_rng(seed)
    labels = rng.uniform(size=60) < 0.4
    labels[:2] = [True, False]
    scores = np.round(rng.normal(size=60), 1)  # ties included
    assert rank_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))
