"""Hypothesis strategies for plain matching values, biased toward collisions and edge cases."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from matching import OBSTACLES, SLOT_COUNT, Mentee, Tutor, Weights

#: Settings of the property tests: enough examples to find edge cases, still fast.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CODES = ("K1302", "K1303", "K1304", "K13", "K", "J1501", "J1502", "A1101", "N4101")
OBSTACLE_CODES = (*OBSTACLES, "autre_difficulte")
MAX_KM = (0.0, 1.0, 5.0, 10.0, 15.0, 20.0, 30.0, 100.0, 25000.0)

# Mostly around the Gers, sometimes anywhere (poles, antimeridian).
latitudes = st.one_of(
    st.sampled_from([43.6533, 43.6465, 43.9, 43.4, 43.6533]),
    st.floats(43.3, 44.1),
    st.floats(-90.0, 90.0),
)
longitudes = st.one_of(
    st.sampled_from([0.5750, 0.5855, 0.2, 1.1, 0.5750]),
    st.floats(-0.3, 1.2),
    st.floats(-180.0, 180.0),
)
availability = st.one_of(
    st.sampled_from([0, 1 << 5, (1 << 5) | (1 << 15), (1 << SLOT_COUNT) - 1]),
    st.integers(0, (1 << SLOT_COUNT) - 1),
    st.lists(st.integers(0, SLOT_COUNT - 1), max_size=4).map(
        lambda bits: sum({1 << b for b in bits})
    ),
)
sectors = st.lists(st.sampled_from(CODES), max_size=3).map(tuple)
obstacles = st.frozensets(st.sampled_from(OBSTACLE_CODES), max_size=4)
max_km = st.one_of(st.sampled_from(MAX_KM), st.floats(0.0, 200.0))


@st.composite
def mentees(draw: st.DrawFn, ident: int | None = None) -> Mentee:
    return Mentee(
        id=draw(st.integers(0, 50)) if ident is None else ident,
        lat=draw(latitudes),
        lon=draw(longitudes),
        sectors=draw(sectors),
        availability=draw(availability),
        max_km=draw(max_km),
        has_car=draw(st.booleans()),
        remote_ok=draw(st.booleans()),
        obstacles=draw(obstacles),
    )


@st.composite
def tutors(draw: st.DrawFn, ident: int | None = None) -> Tutor:
    return Tutor(
        id=draw(st.integers(0, 5)) if ident is None else ident,
        lat=draw(latitudes),
        lon=draw(longitudes),
        sectors=draw(st.lists(st.sampled_from(CODES), max_size=2).map(tuple)),
        availability=draw(availability),
        max_km=draw(max_km),
        has_car=draw(st.booleans()),
        remote_ok=draw(st.booleans()),
        obstacles=draw(obstacles),
        capacity=draw(st.sampled_from([0, 1, 1, 2, 3])),
        last_asked=draw(st.sampled_from([None, None, 1.7e9, 1.7e9 + 60.0, 1.6e9])),
    )


weights = st.one_of(
    st.just(Weights()),
    st.tuples(
        st.sampled_from([0.0, 0.1, 0.3, 1.0, 0.75]),
        st.sampled_from([0.0, 0.35, 1.0, 0.03]),
        st.sampled_from([0.0, 0.15, 1.0]),
        st.sampled_from([0.0, 0.2, 1.0, 1e-3]),
    )
    .filter(any)
    .map(lambda w: Weights(*w)),
)


@st.composite
def score_problems(
    draw: st.DrawFn, max_mentees: int = 8, max_tutors: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """A small score matrix (nan = infeasible, often many) and capacities (often ample)."""
    n = draw(st.integers(0, max_mentees))
    m = draw(st.integers(0, max_tutors))
    nan_rate = draw(st.sampled_from([0.0, 0.3, 0.6, 0.9]))
    value = st.one_of(st.sampled_from([0.0, 0.25, 0.5, 0.5, 1.0]), st.floats(0.0, 1.0))
    cells = draw(st.lists(st.tuples(st.floats(0.0, 1.0), value), min_size=n * m, max_size=n * m))
    scores = np.array([np.nan if u < nan_rate else v for u, v in cells], dtype=np.float64).reshape(
        n, m
    )
    capacity = np.array(draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)), dtype=np.int64)
    return scores, capacity
