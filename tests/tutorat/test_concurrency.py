"""Capacity and "one live binôme per mentee" hold under concurrent requests (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import PASSWORD, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import Pair, TutoringRequest, TutorProfile
from tutorat.services import requests as request_service

N = 50


def _logged_in(app, email):
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    b.get("/referent/")
    return b


def test_many_simultaneous_proposals_for_one_tutor(app):
    with app.app_context():
        referent = make_referent()
        tutor = make_tutor(capacity=3, remote_ok=True)
        request_ids = []
        for _ in range(N):
            mentee = make_mentee(referent, remote_ok=True)
            request_ids.append(
                request_service.open_request(
                    mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
                ).id
            )
            db.session.flush()
        db.session.commit()
        tutor_id, email = tutor.id, referent.email

    browsers = [_logged_in(app, email) for _ in range(N)]

    def propose(i):
        b = browsers[i]
        return b.post(f"/referent/demandes/{request_ids[i]}/proposer", {"tutor_id": str(tutor_id)})

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(propose, range(N)))
    statuses = [r.status_code for r in responses]
    assert 500 not in statuses
    assert statuses.count(302) == 3, statuses
    refused = [r for r in responses if r.status_code != 302]
    assert all(r.status_code == 409 for r in refused), {r.status_code for r in refused}
    assert all(
        "plus de place" in r.get_data(as_text=True)
        or "n'est pas disponible" in r.get_data(as_text=True)
        for r in refused
    )
    with app.app_context():
        assert db.session.get(TutorProfile, tutor_id).places_used == 3
        assert db.session.scalar(select(func.count()).select_from(Pair)) == 3
        assert (
            db.session.scalar(select(func.count()).where(TutoringRequest.status == "proposed")) == 3
        )


def test_double_submission_of_one_proposal(app):
    """The same form sent 20 times at once (impatient clicks): one binôme, never two."""
    with app.app_context():
        referent = make_referent()
        tutors = [make_tutor(capacity=3, remote_ok=True) for _ in range(4)]
        mentee = make_mentee(referent, remote_ok=True)
        request_id = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        ).id
        db.session.commit()
        tutor_ids, email = [t.id for t in tutors], referent.email
    browsers = [_logged_in(app, email) for _ in range(20)]

    def propose(i):
        return browsers[i].post(
            f"/referent/demandes/{request_id}/proposer", {"tutor_id": str(tutor_ids[i % 4])}
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = [r.status_code for r in pool.map(propose, range(20))]
    assert 500 not in statuses and statuses.count(302) == 1, statuses
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pair)) == 1
        assert sum(db.session.scalars(select(TutorProfile.places_used))) == 1


def test_fifty_simultaneous_confirmations(app):
    """50 clicks on "Confirmer le binôme" at once: one activation, one event, no 500."""
    from tutorat.models import StatusEvent
    from tutorat.services import pairs as pair_service

    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, remote_ok=True)
        tutor = make_tutor(remote_ok=True)
        tutoring_request = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.flush()
        pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
        db.session.commit()
        pair_id, email = pair.id, referent.email
    browsers = [_logged_in(app, email) for _ in range(N)]

    def confirm(i):
        return browsers[i].post(f"/referent/binomes/{pair_id}/confirmer", {})

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = [r.status_code for r in pool.map(confirm, range(N))]
    assert 500 not in statuses and statuses.count(302) == 1, statuses
    assert set(statuses) <= {302, 409}
    with app.app_context():
        assert db.session.get(Pair, pair_id).status == "active"
        assert (
            db.session.scalar(
                select(func.count()).where(
                    StatusEvent.entity == "pair",
                    StatusEvent.entity_id == pair_id,
                    StatusEvent.to_status == "active",
                )
            )
            == 1
        )
