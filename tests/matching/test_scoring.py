"""Scores: range, feasibility rules, symmetry, and explain() agreeing with score_matrix() to the last digit."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import matching
from matching import Mentee, Tutor, Weights

from .strategies import PROPERTY, latitudes, longitudes, mentees, tutors, weights
from .test_types import mentee, tutor

AUCH = (43.6533, 0.5750)
PAVIE = (43.6108, 0.5917)  # about 5 km south of Auch
CONDOM = (43.9578, 0.3722)  # about 38 km north-west of Auch


@PROPERTY
@given(st.lists(mentees(), max_size=6), st.lists(tutors(), max_size=6), weights)
def test_scores_in_unit_interval_or_nan(ms, ts, w):
    s = matching.score_matrix(ms, ts, w)
    assert s.shape == (len(ms), len(ts)) and s.dtype == np.float64
    finite = s[~np.isnan(s)]
    assert np.all((finite >= 0.0) & (finite <= 1.0))


@PROPERTY
@given(
    st.lists(mentees(), min_size=1, max_size=5), st.lists(tutors(), min_size=1, max_size=5), weights
)
def test_explain_agrees_with_score_matrix_to_the_last_digit(ms, ts, w):
    s = matching.score_matrix(ms, ts, w)
    for i, m in enumerate(ms):
        for j, t in enumerate(ts):
            e = matching.explain(m, t, w)
            if np.isnan(s[i, j]):
                assert math.isnan(e.score) and not e.feasible and e.infeasible_reasons
            else:
                assert e.score == s[i, j] and e.feasible and not e.infeasible_reasons
                # The documented formula, applied to the parts shown, gives the same float.
                p = e.parts
                again = (
                    (w.distance * p["distance"].value + w.sector * p["sector"].value)
                    + (
                        w.availability * p["availability"].value
                        + w.experience * p["experience"].value
                    )
                ) / w.total
                assert again == e.score
                assert math.isclose(
                    sum(part.contribution for part in p.values()), e.score, abs_tol=1e-12
                )
            assert all(0.0 <= part.value <= 1.0 for part in e.parts.values())


@PROPERTY
@given(mentees(), tutors(), weights)
def test_feasibility_rules(m, t, w):
    e = matching.explain(m, t, w)
    within = e.distance_km <= min(m.effective_max_km, t.effective_max_km)
    common = bool(m.availability & t.availability)
    both_remote = m.remote_ok and t.remote_ok
    assert e.feasible == (t.capacity > 0 and ((within and common) or both_remote))
    assert e.remote == (e.feasible and not (within and common))
    assert e.limit_km == min(m.effective_max_km, t.effective_max_km)
    assert e.common_slots == tuple(
        b for b in range(21) if (m.availability & t.availability) >> b & 1
    )
    assert e.common_slot_labels == tuple(matching.slots_to_labels(m.availability & t.availability))
    assert set(e.common_obstacles) == m.obstacles & t.obstacles
    assert e.parts["sector"].value == matching.SECTOR_LEVEL_VALUES[e.rome_level]
    json.dumps(e.to_dict(), allow_nan=False)


@PROPERTY
@given(latitudes, longitudes, latitudes, longitudes)
def test_distance_is_symmetric_and_zero_on_the_diagonal(lat1, lon1, lat2, lon2):
    d = matching.haversine_km(lat1, lon1, lat2, lon2)
    assert d == matching.haversine_km(lat2, lon2, lat1, lon1)
    assert matching.haversine_km(lat1, lon1, lat1, lon1) == 0.0
    assert 0.0 <= d <= math.pi * matching.EARTH_RADIUS_KM + 1e-9


@PROPERTY
@given(mentees(), tutors())
def test_distance_of_a_pair_does_not_depend_on_who_is_who(m, t):
    swapped_m = dataclasses.replace(m, lat=t.lat, lon=t.lon)
    swapped_t = dataclasses.replace(t, lat=m.lat, lon=m.lon)
    d = matching.explain(m, t).distance_km
    assert d == matching.explain(swapped_m, swapped_t).distance_km
    assert d == matching.haversine_km(m.lat, m.lon, t.lat, t.lon)


def test_haversine_known_values_and_arrays():
    # Auch - Condom, about 38 km; a quarter of the equator.
    assert 37.0 < matching.haversine_km(*AUCH, *CONDOM) < 39.0
    assert math.isclose(matching.haversine_km(0, 0, 0, 90), math.pi / 2 * matching.EARTH_RADIUS_KM)
    out = matching.haversine_km(
        np.array([AUCH[0], 0.0]), np.array([AUCH[1], 0.0]), CONDOM[0], CONDOM[1]
    )
    assert out.shape == (2,) and out[0] == matching.haversine_km(*AUCH, *CONDOM)


def test_reasons_are_plain_french_sentences():
    m = mentee(
        lat=AUCH[0],
        lon=AUCH[1],
        has_car=False,
        max_km=30.0,
        sectors=("K1302",),
        availability=(1 << 5) | (1 << 15),
        obstacles=frozenset({"mobility", "childcare"}),
    )
    t = tutor(
        lat=PAVIE[0],
        lon=PAVIE[1],
        sectors=("K1302",),
        availability=(1 << 5) | (1 << 15) | 1,
        obstacles=frozenset({"childcare", "mobility", "housing"}),
    )
    e = matching.explain(m, t)
    assert e.feasible and not e.remote
    assert e.rome_level == "occupation" and e.shared_code == "K1302"
    assert e.common_slot_labels == ("mardi soir", "samedi matin")
    assert e.common_obstacles == ("mobility", "childcare")
    assert e.reasons[0].startswith("Les deux personnes habitent à ")
    assert "la personne accompagnée, sans voiture, accepte jusqu'à 15 km." in e.reasons[0]
    assert "Même métier : K1302." in e.reasons
    assert "Créneaux communs : mardi soir, samedi matin." in e.reasons
    assert any("mobilité, garde d'enfants" in r for r in e.reasons)
    assert all(r.endswith(".") and r[0].isupper() for r in e.reasons)
    assert e.parts["experience"].value == 1.0 and e.parts["availability"].value == 1.0


def test_infeasible_reasons():
    far = mentee(lat=AUCH[0], lon=AUCH[1], remote_ok=False, has_car=False)
    t = tutor(lat=CONDOM[0], lon=CONDOM[1])
    e = matching.explain(far, t)
    assert not e.feasible and math.isnan(e.score)
    assert any("au-delà" in r and "15 km" in r for r in e.infeasible_reasons)
    no_slot = matching.explain(
        dataclasses.replace(far, lat=PAVIE[0], lon=PAVIE[1], availability=1 << 20), t
    )
    assert any("Aucun créneau commun" in r for r in no_slot.infeasible_reasons)
    full = matching.explain(mentee(), tutor(capacity=0))
    assert not full.feasible and math.isnan(full.score)
    assert full.infeasible_reasons == ("La personne tutrice n'a plus de place disponible.",)
    assert full.parts["sector"].value == 1.0  # the parts are still shown
    assert full.to_dict()["score"] is None


def test_remote_pairs_are_feasible_far_away_and_without_common_slot():
    m = mentee(lat=AUCH[0], lon=AUCH[1], remote_ok=True, availability=1)
    t = tutor(lat=48.85, lon=2.35, remote_ok=True, availability=2)
    e = matching.explain(m, t)
    assert e.feasible and e.remote and e.parts["distance"].value == 0.0
    assert e.parts["availability"].value == 0.0
    assert any("à distance" in r for r in e.reasons)


def test_sector_levels():
    levels = {}
    for code in ("K1302", "K1303", "K13", "K2204", "K", "J1501"):
        e = matching.explain(mentee(sectors=("K1302",)), tutor(sectors=(code,)))
        levels[code] = (e.rome_level, e.shared_code, e.parts["sector"].value)
    assert levels["K1302"] == ("occupation", "K1302", 1.0)
    assert levels["K1303"] == ("domain", "K13", 0.6)
    assert levels["K13"] == ("domain", "K13", 0.6)
    assert levels["K2204"] == ("broad_domain", "K", 0.3)
    assert levels["K"] == ("broad_domain", "K", 0.3)
    assert levels["J1501"] == (None, None, 0.0)
    # Several target métiers: the best level over all pairs counts.
    e = matching.explain(mentee(sectors=("J1501", "K1303", "K1302")), tutor(sectors=("K1302",)))
    assert (e.rome_level, e.shared_code) == ("occupation", "K1302")
    assert matching.rome_level("K13", "K13") == "domain"


def test_experience_counts_the_share_of_the_mentees_obstacles():
    m = mentee(obstacles=frozenset({"mobility", "childcare", "digital_access", "dettes"}))
    values = [
        matching.explain(m, tutor(obstacles=frozenset(o))).parts["experience"].value
        for o in (
            (),
            ("mobility",),
            ("mobility", "dettes"),
            ("mobility", "dettes", "digital_access", "childcare"),
        )
    ]
    assert values == [0.0, 0.25, 0.5, 1.0]
    assert matching.explain(mentee(obstacles=frozenset()), tutor()).parts["experience"].value == 0.0


def test_closer_and_better_matched_pairs_score_higher():
    base = dict(sectors=("K1302",), availability=1 << 5, remote_ok=False)
    m = mentee(lat=AUCH[0], lon=AUCH[1], has_car=True, max_km=50.0, **base)
    near = tutor(lat=PAVIE[0], lon=PAVIE[1], **base)
    far = tutor(lat=CONDOM[0], lon=CONDOM[1], **base)
    s = matching.score_matrix([m], [near, far])[0]
    assert s[0] > s[1] > 0
    other = tutor(lat=PAVIE[0], lon=PAVIE[1], **{**base, "sectors": ("J1501",)})
    assert matching.score_matrix([m], [other])[0, 0] < s[0]


def test_weights_change_the_score_only_through_their_ratios():
    m, t = mentee(), tutor(lat=43.7, lon=0.6)
    a = matching.explain(m, t, Weights(0.1, 0.2, 0.3, 0.4)).score
    b = matching.explain(m, t, Weights(0.2, 0.4, 0.6, 0.8)).score
    assert math.isclose(a, b, rel_tol=1e-12)
    only_sector = matching.explain(m, t, Weights(0, 1, 0, 0))
    assert only_sector.score == 1.0


def test_empty_inputs_and_bad_types():
    assert matching.score_matrix([], [tutor()]).shape == (0, 1)
    assert matching.score_matrix([mentee()], []).shape == (1, 0)
    with pytest.raises(ValueError):
        matching.score_matrix([tutor()], [tutor()])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        matching.score_matrix([mentee()], [mentee()])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        matching.explain(mentee(), tutor(), weights={"distance": 1})  # type: ignore[arg-type]


def test_score_matrix_blocks_match_single_rows():
    rng = np.random.default_rng(1)
    ms = [
        mentee(
            id=i,
            lat=43.3 + 0.8 * rng.random(),
            lon=-0.3 + 1.5 * rng.random(),
            availability=int(rng.integers(0, 1 << 21)),
            remote_ok=bool(rng.random() < 0.5),
            has_car=bool(rng.random() < 0.5),
            max_km=float(rng.choice([5, 15, 30])),
        )
        for i in range(150)
    ]
    ts = [
        tutor(
            id=j,
            lat=43.3 + 0.8 * rng.random(),
            lon=-0.3 + 1.5 * rng.random(),
            availability=int(rng.integers(0, 1 << 21)),
            remote_ok=bool(rng.random() < 0.5),
            capacity=int(rng.integers(0, 3)),
            sectors=(str(rng.choice(["K1302", "K1303", "J1501"])),),
        )
        for j in range(700)
    ]
    full = matching.score_matrix(ms, ts)  # several blocks of rows
    for i in range(0, 150, 13):
        row = matching.score_matrix([ms[i]], ts)[0]
        assert np.array_equal(row, full[i], equal_nan=True)


def test_matching_inputs_keep_their_types():
    assert isinstance(matching.explain(mentee(), tutor()), matching.Explanation)
    assert isinstance(Mentee, type) and isinstance(Tutor, type)


@given(mentees(ident=1), tutors(ident=2))
def test_each_reason_names_the_part_it_speaks_of(m, t):
    # A viewer from whom a part is hidden is shown none of its sentences: each one must be tagged,
    # and sentences stored without their tags must be told apart by their words alone.
    ex = matching.explain(m, t)
    assert len(ex.reason_parts) == len(ex.reasons)
    assert set(ex.reason_parts) <= set(matching.Weights.PARTS)
    for sentence, part in zip(ex.reasons, ex.reason_parts, strict=True):
        assert matching.reason_part(sentence) == part, sentence
    assert ex.to_dict()["reason_parts"] == list(ex.reason_parts)
    assert matching.reason_part("Une phrase que explain n'écrit jamais.") is None
