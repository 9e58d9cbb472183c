"""top_candidates and candidate_graph: exactly the ranking of a full scan, ties broken as PRODUCT.md says."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import matching

from .strategies import PROPERTY, mentees, tutors, weights
from .test_types import mentee, tutor


def full_scan(m, ts, k, w):
    """Reference: score every tutor, sort all feasible ones by the documented keys."""
    s = matching.score_matrix([m], ts, w)[0]
    keys = [
        (-s[j], -math.inf if t.last_asked is None else t.last_asked, t.id, j)
        for j, t in enumerate(ts)
        if not np.isnan(s[j])
    ]
    return [(key[3], float(s[key[3]])) for key in sorted(keys)[:k]]


@PROPERTY
@given(
    st.lists(mentees(), min_size=1, max_size=4),
    st.lists(tutors(), max_size=12),
    st.integers(1, 6),
    weights,
)
def test_top_candidates_is_exactly_the_full_scan(ms, ts, k, w):
    index = matching.TutorIndex(ts)
    for m in ms:
        expected = full_scan(m, ts, k, w)
        assert matching.top_candidates(m, ts, k=k, weights=w) == expected
        assert index.top_candidates(m, k, w) == expected


@PROPERTY
@given(st.lists(mentees(), max_size=8), st.lists(tutors(), max_size=10), st.integers(1, 4), weights)
def test_candidate_graph_is_each_mentees_top_k(ms, ts, k, w):
    g = matching.candidate_graph(ms, ts, k=k, weights=w)
    assert g.n_mentees == len(ms) and g.n_tutors == len(ts)
    for i, m in enumerate(ms):
        mine = g.rows == i
        assert list(zip(g.cols[mine].tolist(), g.scores[mine].tolist(), strict=True)) == full_scan(
            m, ts, k, w
        )


def test_ties_go_to_the_tutor_asked_least_recently_then_to_the_smaller_id():
    m = mentee()
    base = tutor()
    ts = [
        dataclasses.replace(base, id=5, last_asked=2_000.0),
        dataclasses.replace(base, id=9, last_asked=None),
        dataclasses.replace(base, id=3, last_asked=1_000.0),
        dataclasses.replace(base, id=4, last_asked=None),
        dataclasses.replace(base, id=1, last_asked=1_000.0),
        dataclasses.replace(base, id=2, capacity=0),
    ]
    ranked = matching.top_candidates(m, ts, k=10)
    assert [ts[j].id for j, _ in ranked] == [4, 9, 1, 3, 5]
    assert len({s for _, s in ranked}) == 1
    assert matching.top_candidates(m, ts, k=2) == ranked[:2]


def test_large_spread_out_index_agrees_with_full_scan():
    rng = np.random.default_rng(4)
    ts = [
        tutor(
            id=j,
            lat=42.5 + 8 * rng.random(),
            lon=-4.5 + 12 * rng.random(),
            remote_ok=bool(rng.random() < 0.3),
            availability=int(rng.integers(1, 1 << 21)),
            max_km=float(rng.choice([10, 30, 60])),
            has_car=bool(rng.random() < 0.7),
            sectors=(str(rng.choice(["K1302", "K1303", "J1501", "A1101"])),),
            capacity=int(rng.integers(0, 3)),
            last_asked=None if rng.random() < 0.5 else float(rng.integers(0, 5)),
        )
        for j in range(3000)
    ]
    index = matching.TutorIndex(ts)
    for i in range(40):
        m = mentee(
            id=i,
            lat=42.5 + 8 * rng.random(),
            lon=-4.5 + 12 * rng.random(),
            remote_ok=bool(rng.random() < 0.5),
            max_km=float(rng.choice([5, 15, 40, 80])),
            has_car=bool(rng.random() < 0.5),
            availability=int(rng.integers(1, 1 << 21)),
        )
        assert index.top_candidates(m, 20) == full_scan(m, ts, 20, matching.Weights())
        cols = index.candidate_columns(m)
        s = matching.score_matrix([m], ts)[0]
        assert set(np.flatnonzero(~np.isnan(s))) <= set(cols.tolist())


def test_bad_k_and_types():
    with pytest.raises(ValueError, match=r"k \(tuteurs gardés\) : au moins 1"):
        matching.top_candidates(mentee(), [tutor()], k=-1)
    with pytest.raises(ValueError, match="nombre entier"):
        matching.top_candidates(mentee(), [tutor()], k=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Un bénéficiaire"):
        matching.top_candidates(tutor(), [tutor()])  # type: ignore[arg-type]
    assert matching.top_candidates(mentee(), []) == []
    with pytest.raises(ValueError, match=r"k \(tuteurs gardés\) : au moins 1"):
        matching.top_candidates(mentee(), [tutor()], k=0)  # was silently []
