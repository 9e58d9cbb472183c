"""The rules: state machine, capacity, one demande and one binôme per mentee, events."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.factories import make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import Pair, StatusEvent, TutoringRequest, TutorProfile
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.workflow import PAIR_TRANSITIONS, REQUEST_TRANSITIONS, transition


def _open(mentee, actor=None):
    tutoring_request = request_service.open_request(
        mentee, actor=actor or mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
    )
    db.session.flush()
    return tutoring_request


def _events(entity, obj_id):
    return [
        (e.from_status, e.to_status)
        for e in db.session.scalars(
            select(StatusEvent)
            .where(StatusEvent.entity == entity, StatusEvent.entity_id == obj_id)
            .order_by(StatusEvent.id)
        )
    ]


def test_transition_tables_cover_every_status():
    from tutorat.models import PairStatus, TutoringRequestStatus

    assert set(PAIR_TRANSITIONS) == {s.value for s in PairStatus}
    assert set(REQUEST_TRANSITIONS) == {s.value for s in TutoringRequestStatus}
    for table in (PAIR_TRANSITIONS, REQUEST_TRANSITIONS):
        for targets in table.values():
            assert targets <= set(table)


def test_forbidden_transition_is_refused(ctx):
    referent = make_referent()
    mentee = make_mentee(referent)
    tutoring_request = _open(mentee)
    with pytest.raises(Conflict):
        transition(tutoring_request, "matched", actor=referent)
    assert tutoring_request.status == "open"


def test_one_open_request_per_mentee(ctx):
    referent = make_referent()
    mentee = make_mentee(referent)
    _open(mentee)
    with pytest.raises(Conflict):
        _open(mentee)


def test_unique_index_is_the_last_guard(ctx):
    referent = make_referent()
    mentee = make_mentee(referent)
    _open(mentee)
    db.session.add(TutoringRequest(mentee_id=mentee.id, created_by_id=mentee.id, status="open"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_incomplete_profile_cannot_request(ctx):
    referent = make_referent()
    mentee = make_mentee(referent, complete=False)
    with pytest.raises(DomainError, match="Complétez"):
        _open(mentee)


def test_full_cycle_with_events_and_places(ctx):
    referent = make_referent()
    mentee = make_mentee(referent)
    tutor = make_tutor(capacity=1)
    tutoring_request = _open(mentee)
    pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
    db.session.flush()
    assert db.session.get(TutorProfile, tutor.id).places_used == 1
    assert tutoring_request.status == "proposed"
    pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
    assert pair.status == "mentee_accepted"
    with pytest.raises(Conflict):
        pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
    with pytest.raises(Conflict):
        pair_service.confirm(pair, actor=referent)
    pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
    assert pair.status == "accepted"
    pair_service.confirm(pair, actor=referent)
    assert (pair.status, tutoring_request.status) == ("active", "matched")
    pair_service.end(pair, actor=referent, outcomes=["stopped"], stop_reason="moved")
    assert (
        pair.status == "ended" and tutoring_request.status == "open"
    )  # a failed binôme goes back to the queue
    profile = db.session.get(TutorProfile, tutor.id)
    assert profile.places_used == 0 and profile.rest_until is not None
    assert _events("pair", pair.id) == [
        (None, "proposed"),
        ("proposed", "mentee_accepted"),
        ("mentee_accepted", "accepted"),
        ("accepted", "active"),
        ("active", "ended"),
    ]
    assert _events("request", tutoring_request.id) == [
        (None, "open"),
        ("open", "proposed"),
        ("proposed", "matched"),
        ("matched", "open"),
    ]


def test_capacity_is_never_exceeded(ctx):
    referent = make_referent()
    tutor = make_tutor(capacity=1)
    first = _open(make_mentee(referent))
    second = _open(make_mentee(referent))
    pair_service.propose(first, tutor.id, actor=referent)
    db.session.flush()
    with pytest.raises(DomainError):
        pair_service.propose(second, tutor.id, actor=referent)


def test_decline_frees_the_place_and_reopens(ctx):
    referent = make_referent()
    mentee = make_mentee(referent)
    tutor = make_tutor(capacity=1)
    tutoring_request = _open(mentee)
    pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
    with pytest.raises(DomainError):
        pair_service.answer(
            pair, side="tutor", accept=False, actor=tutor, reason="other", detail=""
        )
    pair_service.answer(pair, side="tutor", accept=False, actor=tutor, reason="too_far")
    db.session.flush()
    assert (pair.status, pair.decline_reason, tutoring_request.status) == (
        "declined",
        "too_far",
        "open",
    )
    assert db.session.get(TutorProfile, tutor.id).places_used == 0


def test_only_the_mentees_referent_may_act(ctx):
    referent, other = make_referent(), make_referent()
    mentee = make_mentee(referent)
    tutor = make_tutor()
    tutoring_request = _open(mentee)
    with pytest.raises(DomainError):
        pair_service.propose(tutoring_request, tutor.id, actor=other)
    pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
    with pytest.raises(DomainError):
        pair_service.withdraw(pair, actor=other)
    with pytest.raises(DomainError):
        pair_service.answer(pair, side="tutor", accept=True, actor=mentee)


def test_infeasible_tutor_cannot_be_proposed(ctx):
    referent = make_referent()
    mentee = make_mentee(referent, has_car=False, max_km=10)
    far = make_tutor(commune="32119", has_car=False, max_km=5)  # Eauze, far from Auch
    with pytest.raises(DomainError, match="ne peut pas être proposé"):
        pair_service.propose(_open(mentee), far.id, actor=referent)


def test_unvalidated_tutor_is_not_a_candidate(ctx):
    from tutorat.services import suggestions

    referent = make_referent()
    mentee = make_mentee(referent)
    make_tutor(validated=False)
    ok = make_tutor()
    candidates, feasible = suggestions.candidates_for(_open(mentee))
    assert [c.tutor.id for c in candidates] == [ok.id] and feasible == 1


def test_withdraw_then_propose_again(ctx):
    referent = make_referent()
    mentee = make_mentee(referent)
    t1, t2 = make_tutor(), make_tutor()
    tutoring_request = _open(mentee)
    pair = pair_service.propose(tutoring_request, t1.id, actor=referent)
    pair_service.withdraw(pair, actor=referent)
    db.session.flush()
    second = pair_service.propose(tutoring_request, t2.id, actor=referent)
    db.session.flush()
    assert second.status == "proposed"
    assert db.session.scalar(select(Pair.status).where(Pair.id == pair.id)) == "withdrawn"
