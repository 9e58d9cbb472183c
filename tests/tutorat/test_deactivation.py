"""Deactivating an account withdraws what is pending on the person; nobody can then accept or confirm."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from tests.conftest import PG_URL, Browser
from tests.factories import (
    PASSWORD,
    make_active_pair,
    make_admin,
    make_mentee,
    make_proposal,
    make_referent,
    make_tutor,
)
from tutorat.extensions import db
from tutorat.models import OutboxEmail, Pair, StatusEvent, TutoringRequest, TutorProfile, User
from tutorat.services import deactivation
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.services.errors import Conflict


def _proposal(referent, tutor, mentee=None):
    mentee = mentee or make_mentee(referent)
    return make_proposal(referent, mentee, tutor)


def _emails(kind: str) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind)))


def _events(pair_id: int) -> list[StatusEvent]:
    return list(
        db.session.scalars(
            select(StatusEvent)
            .where(StatusEvent.entity == "pair", StatusEvent.entity_id == pair_id)
            .order_by(StatusEvent.id)
        )
    )


def test_admin_deactivation_withdraws_pending_proposals_with_events_and_emails(app, client):
    with app.app_context():
        admin = make_admin()
        referent = make_referent()
        tutor = make_tutor(capacity=3)
        waiting = _proposal(referent, tutor)
        half = _proposal(referent, tutor)
        pair_service.answer(half, side="mentee", accept=True, actor=half.mentee)
        active = _proposal(referent, tutor)
        pair_service.answer(active, side="tutor", accept=True, actor=tutor)
        pair_service.answer(active, side="mentee", accept=True, actor=active.mentee)
        pair_service.confirm(active, actor=referent)
        db.session.commit()
        db.session.execute(db.delete(OutboxEmail))
        db.session.commit()
        ids = {"waiting": waiting.id, "half": half.id, "active": active.id}
        tutor_id, admin_email, admin_id = tutor.id, admin.email, admin.id
        mentee_emails = {waiting.mentee.email, half.mentee.email}
        referent_email, tutor_email = referent.email, tutor.email

    b = Browser(client)
    assert b.login(admin_email, PASSWORD).status_code == 302
    response = b.post(f"/admin/comptes/{tutor_id}/desactiver", {}, page="/admin/comptes?role=tutor")
    assert response.status_code == 302
    page = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 proposition(s) de binôme en attente retirée(s)" in page

    with app.app_context():
        assert db.session.get(User, tutor_id).active is False
        for key in ("waiting", "half"):
            pair = db.session.get(Pair, ids[key])
            assert pair.status == "withdrawn"
            assert db.session.get(TutoringRequest, pair.request_id).status == "open"
            last = _events(pair.id)[-1]
            assert (last.to_status, last.actor_id) == ("withdrawn", admin_id)
            assert "tuteur" in last.reason
        assert db.session.get(Pair, ids["active"]).status == "active"
        assert db.session.get(TutorProfile, tutor_id).places_used == 1
        withdrawn = _emails("pair_withdrawn")
        assert sorted(e.recipient for e in withdrawn) == sorted(
            [*mentee_emails, referent_email, referent_email]
        )
        assert tutor_email not in {e.recipient for e in db.session.scalars(select(OutboxEmail))}
        to_mentee = next(e for e in withdrawn if e.recipient in mentee_emails)
        assert "n'est plus inscrite au service" in to_mentee.body_text
        to_referent = next(e for e in withdrawn if e.recipient == referent_email)
        assert "a été désactivé" in to_referent.body_text
        assert "proposer un autre tuteur" in to_referent.body_text
        [alert] = _emails("pair_person_deactivated")
        assert alert.recipient == referent_email and f"n° {ids['active']}" in alert.body_text


def test_deactivating_a_mentee_closes_the_demande_and_tells_the_tutor(ctx):
    referent = make_referent()
    tutor = make_tutor()
    pair = _proposal(referent, tutor)
    alone = make_mentee(referent)
    open_one = request_service.open_request(
        alone, actor=alone, topics=["cv"], meeting_modes=["video"], message="Bonjour"
    )
    db.session.commit()
    report = deactivation.deactivate_account(pair.mentee, referent, "Déménagement")
    report_alone = deactivation.deactivate_account(alone, referent, "Déménagement")
    db.session.commit()
    assert report["propositions retirées"] == 1 and report_alone["demandes closes"] == 1
    assert db.session.get(Pair, pair.id).status == "withdrawn"
    assert db.session.get(TutoringRequest, pair.request_id).status == "cancelled"
    assert db.session.get(TutoringRequest, open_one.id).status == "cancelled"
    assert db.session.get(TutorProfile, tutor.id).places_used == 0
    assert tutor.email in {e.recipient for e in _emails("pair_withdrawn")}


@pytest.mark.parametrize("step", ["confirm", "accept"])
def test_confirm_or_accept_refused_once_a_person_is_deactivated(ctx, step):
    """Even if the account was deactivated some other way, nothing goes on with that person."""
    referent = make_referent()
    tutor = make_tutor()
    pair = _proposal(referent, tutor)
    pair_service.answer(pair, side="mentee", accept=True, actor=pair.mentee)
    if step == "confirm":
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
    db.session.commit()
    db.session.execute(db.update(User).where(User.id == tutor.id).values(active=False))
    db.session.commit()
    with pytest.raises(Conflict, match="compte du tuteur a été désactivé"):
        if step == "confirm":
            pair_service.confirm(pair, actor=referent)
        else:
            pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
    db.session.rollback()
    assert db.session.get(Pair, pair.id).status in ("accepted", "mentee_accepted")


def test_confirm_page_after_deactivation_gives_a_french_409(app, client):
    with app.app_context():
        referent = make_referent()
        tutor = make_tutor()
        pair = _proposal(referent, tutor)
        pair_service.answer(pair, side="mentee", accept=True, actor=pair.mentee)
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        db.session.execute(db.update(User).where(User.id == tutor.id).values(active=False))
        db.session.commit()
        pair_id, email = pair.id, referent.email
    b = Browser(client)
    assert b.login(email, PASSWORD).status_code == 302
    response = b.post(f"/referent/binomes/{pair_id}/confirmer", {}, page="/referent/")
    assert response.status_code == 409
    assert "compte du tuteur a été désactivé" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Pair, pair_id).status == "accepted"


@pytest.mark.skipif(not PG_URL, reason="row locks (FOR UPDATE / FOR SHARE): PostgreSQL only")
@pytest.mark.parametrize("first", ["accept", "deactivate"])
def test_concurrent_acceptance_and_deactivation(app, first):
    """Two threads, each holding its transaction open a moment: never an accepted binôme with a
    deactivated tutor, and the deactivation never fails."""
    with app.app_context():
        admin = make_admin()
        referent = make_referent()
        tutor = make_tutor()
        pair = _proposal(referent, tutor)
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        db.session.commit()
        pair_id, tutor_id, admin_id, mentee_id = pair.id, tutor.id, admin.id, pair.mentee_id
    started = threading.Event()
    outcome: dict[str, str] = {}

    def accept():
        with app.app_context():
            if first == "deactivate":
                started.wait(5)
            pair = db.session.get(Pair, pair_id)
            mentee = db.session.get(User, mentee_id)
            try:
                pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
                if first == "accept":
                    started.set()
                    time.sleep(0.5)  # the deactivation starts meanwhile
                db.session.commit()
                outcome["accept"] = "ok"
            except Conflict as error:
                db.session.rollback()
                outcome["accept"] = error.message
            finally:
                started.set()
                db.session.remove()

    def deactivate():
        with app.app_context():
            if first == "accept":
                started.wait(5)
            try:
                deactivation.deactivate_account(
                    db.session.get(User, tutor_id), db.session.get(User, admin_id), "Départ"
                )
                if first == "deactivate":
                    started.set()
                    time.sleep(0.5)
                db.session.commit()
                outcome["deactivate"] = "ok"
            except Conflict as error:
                db.session.rollback()
                outcome["deactivate"] = error.message
            finally:
                started.set()
                db.session.remove()

    threads = [threading.Thread(target=accept), threading.Thread(target=deactivate)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert outcome["deactivate"] == "ok", outcome
    with app.app_context():
        assert db.session.get(User, tutor_id).active is False
        assert db.session.get(Pair, pair_id).status == "withdrawn"
        assert db.session.get(TutorProfile, tutor_id).places_used == 0
        if first == "accept":
            assert outcome["accept"] == "ok"  # accepted, then withdrawn by the deactivation
        else:
            assert "désactivé" in outcome["accept"]


def test_anonymisation_also_withdraws_pending_proposals(ctx):
    """Anonymising deactivates too: the same withdrawal and events, but no email about the person."""
    from tutorat.services import privacy

    referent = make_referent()
    tutor = make_tutor(first_name="Gontran", last_name="Pesquidoux")
    pair = _proposal(referent, tutor)
    db.session.commit()
    db.session.execute(db.delete(OutboxEmail))
    privacy.anonymise(tutor, actor=referent)
    db.session.commit()
    assert db.session.get(Pair, pair.id).status == "withdrawn"
    assert _events(pair.id)[-1].to_status == "withdrawn"
    assert db.session.get(TutoringRequest, pair.request_id).status == "open"
    assert db.session.get(TutorProfile, tutor.id).places_used == 0
    assert _emails("pair_withdrawn") == []


@pytest.mark.parametrize("erased", ["tutor", "mentee"])
def test_anonymisation_ends_an_active_binome(ctx, erased):
    """The person is gone: their active binôme ends without result, and a mentee left without
    her tutor goes back to the queue."""
    from tutorat.services import privacy

    referent = make_referent()
    mentee = make_mentee(referent, remote_ok=True)
    tutor = make_tutor(remote_ok=True, max_km=60)
    pair = make_active_pair(referent, mentee, tutor)
    db.session.commit()
    db.session.execute(db.delete(OutboxEmail))
    privacy.anonymise(tutor if erased == "tutor" else mentee, actor=referent)
    db.session.commit()
    ended = db.session.get(Pair, pair.id)
    assert ended.status == "ended" and ended.outcomes == ["stopped"] and ended.ended_at is not None
    assert _events(pair.id)[-1].to_status == "ended"
    assert db.session.get(TutorProfile, tutor.id).places_used == 0
    tutoring_request = db.session.get(TutoringRequest, pair.request_id).status
    assert tutoring_request == ("open" if erased == "tutor" else "matched")
    assert _emails("pair_ended") == [] and _emails("pair_person_deactivated") == []
