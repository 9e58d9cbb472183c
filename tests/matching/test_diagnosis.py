"""Left-out tutors and the diagnosis: every tutor is ranked or left out for true reasons; no
suggestion promises more tutors than the change really brings."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching import Mentee, Tutor, explain
from matching.diagnosis import HOLD_REASONS, LEFT_OUT_REASONS, Roster, diagnose, partition
from tests.matching.strategies import PROPERTY, mentees, tutors

holds_for = st.lists(
    st.frozensets(st.sampled_from(sorted(HOLD_REASONS)), max_size=2), min_size=0, max_size=8
)


def _holds(codes: list[frozenset[str]], n: int) -> dict[int, frozenset[str]]:
    return {i: c for i, c in enumerate(codes[:n]) if c}


def _by_code(holds: dict[int, frozenset[str]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, codes in holds.items():
        for code in codes:
            out.setdefault(code, []).append(i)
    return out


def _feasible_open(m: Mentee, t: Tutor) -> bool:
    return explain(m, dataclasses.replace(t, capacity=max(t.capacity, 1))).feasible


@PROPERTY
@given(mentees(), st.lists(tutors(), max_size=8), holds_for)
def test_every_tutor_is_ranked_or_left_out_for_true_reasons(m, ts, codes):
    holds = _holds(codes, len(ts))
    roster = Roster(ts)
    part = partition(m, roster, _by_code(holds))
    rankable = set(part.rankable.tolist())
    left = {i: part.reasons(i) for i in range(len(ts)) if i not in rankable}
    assert all(not part.reasons(i) for i in rankable)
    assert part.left_out == len(left)
    for i, t in enumerate(ts):
        ex = explain(m, t)
        if i in rankable:
            assert ex.feasible and i not in holds
            continue
        reasons = left[i]
        assert reasons, "a left-out tutor always has a reason"
        geo = explain(m, dataclasses.replace(t, capacity=max(t.capacity, 1)))
        both_remote = m.remote_ok and t.remote_ok
        for reason in reasons:
            assert reason in LEFT_OUT_REASONS
            if reason in HOLD_REASONS:
                assert reason in holds[i]
            elif reason == "full":
                assert t.capacity == 0
            elif reason == "too_far":
                assert not both_remote and geo.distance_km > geo.limit_km
            elif reason == "no_common_slot":
                assert not both_remote and not geo.common_slots
    counted = {g.reason: g.count for g in part.groups}
    for code in LEFT_OUT_REASONS:
        assert counted.get(code, 0) == sum(code in r for r in left.values())
    for g in part.groups:
        assert len(g.closest) == min(3, g.count)
        d = [part.distance_km[i] for i in g.closest]
        assert d == sorted(d)


@PROPERTY
@given(mentees(), st.lists(tutors(), max_size=8), holds_for)
def test_a_suggestion_never_promises_more_than_the_change_brings(m, ts, codes):
    holds = _holds(codes, len(ts))
    roster = Roster(ts)
    usable = [t for i, t in enumerate(ts) if i not in holds and t.capacity > 0]
    before = sum(_feasible_open(m, t) for t in usable)
    for s in diagnose(m, roster, _by_code(holds)):
        if s.kind == "nearest":
            assert s.gain == 0 and s.tutor is not None and not explain(m, ts[s.tutor]).feasible
            continue
        assert s.gain > 0
        if s.kind == "remote":
            changed = dataclasses.replace(m, remote_ok=True)
        elif s.kind == "distance":
            changed = dataclasses.replace(
                m, max_km=max(float(s.value), m.max_km), has_car=m.has_car or s.value > 15
            )
        else:
            changed = dataclasses.replace(m, availability=m.availability | 1 << int(s.value))
        after = sum(_feasible_open(changed, t) for t in usable)
        assert s.gain == after - before


def _mentee(**kw):
    base = dict(
        id=1,
        lat=43.6465,
        lon=0.5855,
        sectors=("K1302",),
        availability=1 << 5,
        max_km=10.0,
        has_car=False,
        remote_ok=False,
    )
    return Mentee(**{**base, **kw})


def _tutor(ident, **kw):
    base = dict(
        id=ident,
        lat=43.6465,
        lon=0.5855,
        sectors=("K1302",),
        availability=1 << 5,
        max_km=50.0,
        has_car=True,
        remote_ok=True,
        capacity=1,
    )
    return Tutor(**{**base, **kw})


def test_groups_say_who_and_why_in_french():
    ts = [
        _tutor(1),
        _tutor(2, capacity=0),
        _tutor(3, lat=43.47, lon=0.37),  # Mirande area, ~25 km
        _tutor(4, availability=1 << 17),  # samedi soir only
        _tutor(5),
    ]
    part = partition(_mentee(), Roster(ts), {"refused": [4]})
    assert part.rankable.tolist() == [0]
    assert [part.reasons(i) for i in range(1, 5)] == [
        ("full",),
        ("too_far",),
        ("no_common_slot",),
        ("refused",),
    ]
    assert [g.label for g in part.groups] == [
        "A déjà refusé cette demande",
        "Plus de place libre",
        "Trop loin",
        "Aucun moment libre en commun",
    ]
    texts = [
        s.text
        for s in diagnose(
            _mentee(),
            Roster(ts),
            {"refused": [4]},
            place_names=["Auch"] * 2 + ["Mirande"] + ["Auch"] * 2,
        )
    ]
    assert texts[0] == "Avec des rencontres à distance (téléphone, visio) : 2 tuteurs de plus."
    assert any(
        t.startswith("En acceptant de se déplacer jusqu'à 2") and "voiture" in t for t in texts
    )
    assert "En ajoutant le samedi soir : 1 tuteur de plus." in texts
    assert texts[-1].startswith("Le tuteur le plus proche du même domaine professionnel est à ")
    assert "(Mirande), trop loin." in texts[-1] or "(Auch)" in texts[-1]


def test_bad_holds_are_refused():
    with pytest.raises(ValueError):
        partition(_mentee(), Roster([_tutor(1)]), {"full": [0]})
    with pytest.raises(ValueError):
        partition(_mentee(), Roster([_tutor(1)]), {"refused": [3]})
    assert partition(_mentee(), Roster([])).groups == ()


@PROPERTY
@given(mentees(), st.lists(tutors(), max_size=8))
def test_the_shortcut_feasibility_is_the_kernels(m, ts):
    from matching.diagnosis import _feasible_with, _geometry

    roster = Roster(ts)
    geo = _geometry(m, roster)
    assert (_feasible_with(m, geo, roster) == geo.feasible).all()
