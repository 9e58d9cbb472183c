"""The référent decides with the whole picture (issue 13): left-out tutors, diagnosis, proposals
outside the ranking, the waiting list — through the test client, and bad input refused."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import (
    EventEntity,
    OutboxEmail,
    Pair,
    StatusEvent,
    TutoringRequest,
    TutorProfile,
    User,
)
from tutorat.models.requests import TutoringRequestStatus
from tutorat.services import followup, suggestions
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service

MIRANDE = "32256"  # about 23 km from Auch
PAVIE = "32307"  # about 5 km from Auch


def _open(mentee, referent) -> TutoringRequest:
    tutoring_request = request_service.open_request(
        mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
    )
    db.session.flush()
    return tutoring_request


@pytest.fixture
def world(app):
    with app.app_context():
        suggestions._POOLS.clear()
        referent = make_referent()
        mentee = make_mentee(referent, commune="32013", first_name="Julie", last_name="Carrère")
        near = make_tutor(commune=PAVIE, first_name="Proche", last_name="Tuteur")
        far = make_tutor(
            commune=MIRANDE, first_name="Lointaine", last_name="Tutrice", remote_ok=True
        )
        resting = make_tutor(commune=PAVIE, first_name="Repos", last_name="Tuteur")
        db.session.get(TutorProfile, resting.id).rest_until = datetime.now(UTC) + timedelta(days=9)
        fresh = make_tutor(commune=PAVIE, validated=False, first_name="Nouveau", last_name="Venu")
        away = make_tutor(commune=PAVIE, first_name="Absente", last_name="Tutrice")
        db.session.get(TutorProfile, away.id).unavailable_until = date.today() + timedelta(days=20)
        tutoring_request = _open(mentee, referent)
        db.session.commit()
        return {
            "referent": referent.email,
            "request": tutoring_request.id,
            "near": near.id,
            "far": far.id,
            "resting": resting.id,
            "fresh": fresh.id,
        }


def _page(b: Browser, url: str) -> str:
    return html.unescape(b.get(url).get_data(as_text=True))


def _browser(app, email) -> Browser:
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


def _counts(app, request_id):
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Pair)),
            db.session.scalar(select(func.count()).select_from(StatusEvent)),
            db.session.get(TutoringRequest, request_id).status,
        )


def _decline(app, world):
    """The near tutor is proposed, then declines this demande."""
    with app.app_context():
        tutoring_request = db.session.get(TutoringRequest, world["request"])
        referent = tutoring_request.mentee.mentee_profile.referent
        pair = pair_service.propose(tutoring_request, world["near"], actor=referent)
        tutor = pair.tutor
        pair_service.answer(pair, side="tutor", accept=False, actor=tutor, reason="unavailable")
        db.session.commit()


def test_the_page_ranks_compactly_and_shows_who_was_left_out_and_why(app, world):
    b = _browser(app, world["referent"])
    page = _page(b, f"/referent/demandes/{world['request']}")
    ranked, counts = page.split('id="ecartes"')
    assert 'class="table compare"' in ranked and "<summary>Proche Tuteur</summary>" in ranked
    assert (
        "Lointaine" not in ranked and "Repos Tuteur" not in ranked and "Nouveau Venu" not in ranked
    )
    # The demande's page counts the left-out tutors by reason; the people are on their own page.
    assert "En repos après un binôme</strong> : 1 tuteur" in counts
    assert "Trop loin</strong> : 1 tuteur" in counts and "Lointaine" not in counts
    assert f"/referent/demandes/{world['request']}/ecartes" in counts
    left_out = _page(b, f"/referent/demandes/{world['request']}/ecartes")
    assert "En repos après un binôme</strong> : 1 tuteur" in left_out
    # The demande's history names who acted (read as rows, with the names joined).
    with app.app_context():
        referent = db.session.scalars(select(User).where(User.email == world["referent"])).one()
        name = referent.full_name
    history = page.split("Historique des changements d'état de la demande")[-1]
    assert f"<td>{name}" in history and "Le service (action automatique)" not in history
    assert "Repos Tuteur</strong>, Pavie" in left_out and "en repos jusqu'au" in left_out
    assert "Trop loin</strong> : 1 tuteur" in left_out
    assert "Lointaine Tutrice</strong>, Mirande" in left_out
    assert "au-delà des 15 km acceptés par la personne accompagnée" in left_out
    assert "Pas encore validé</strong> : 1 tuteur" in left_out
    # « Indisponible jusqu'au » typed by the tutor: left out as paused, with the date.
    assert "Absente Tutrice" not in ranked
    assert "Absente Tutrice</strong>, Pavie" in left_out and "indisponible jusqu'au" in left_out
    # Only one tutor fits: the diagnosis says what would bring more, and links to the profile.
    assert "Avec des rencontres à distance (téléphone, visio) : 1 tuteur de plus." in page
    assert "/profil#remote_ok" in page


def test_a_tutor_who_declined_is_not_ranked_nor_proposable_again(app, world):
    _decline(app, world)
    b = _browser(app, world["referent"])
    url = f"/referent/demandes/{world['request']}"
    page = _page(b, url)
    ranked, counts = page.split('id="ecartes"')
    assert "Proche Tuteur" not in ranked
    assert "A déjà refusé cette demande</strong> : 1 tuteur" in counts
    left_out = _page(b, f"{url}/ecartes")
    assert "A déjà refusé cette demande</strong> : 1 tuteur" in left_out
    assert "a refusé le" in left_out and "Pas disponible en ce moment" in left_out
    before = _counts(app, world["request"])
    r = b.post(f"{url}/proposer", {"tutor_id": str(world["near"])}, page=url)
    assert r.status_code == 409
    assert "a refusé cette demande" in html.unescape(r.get_data(as_text=True))
    assert _counts(app, world["request"]) == before
    # Outside the ranking neither.
    r = b.post(
        f"{url}/hors-classement",
        {"outside-tutor_id": str(world["near"]), "outside-reason": "Je le connais bien"},
        page=url,
    )
    assert r.status_code == 409 and _counts(app, world["request"]) == before


def test_outside_the_ranking_needs_a_reason_and_says_so_everywhere(app, world):
    b = _browser(app, world["referent"])
    url = f"/referent/demandes/{world['request']}"
    found = _page(b, f"{url}?tuteur=lointaine")
    assert "Proposer Lointaine Tutrice hors classement" in found
    assert b.get(f"{url}?tuteur=x").status_code == 400  # too short
    before = _counts(app, world["request"])
    r = b.post(f"{url}/hors-classement", {"outside-tutor_id": str(world["far"])}, page=url)
    assert r.status_code == 422
    assert "Indiquez pourquoi vous proposez ce tuteur hors classement" in html.unescape(
        r.get_data(as_text=True)
    )
    assert _counts(app, world["request"]) == before
    # Resting: the rest period still holds.
    r = b.post(
        f"{url}/hors-classement",
        {"outside-tutor_id": str(world["resting"]), "outside-reason": "Elle le demande"},
        page=url,
    )
    assert r.status_code == 409 and "en repos jusqu'au" in html.unescape(r.get_data(as_text=True))
    # Not validated.
    r = b.post(
        f"{url}/hors-classement",
        {"outside-tutor_id": str(world["fresh"]), "outside-reason": "Elle le demande"},
        page=url,
    )
    assert r.status_code == 409 and _counts(app, world["request"]) == before
    # Too far, but the référent knows she can get a lift: proposed, with the reason kept.
    r = b.post(
        f"{url}/hors-classement",
        {"outside-tutor_id": str(world["far"]), "outside-reason": "Sa sœur l'emmène à Mirande"},
        page=url,
    )
    assert r.status_code == 302, html.unescape(r.get_data(as_text=True))[:3000]
    with app.app_context():
        pair = db.session.scalars(select(Pair).where(Pair.request_id == world["request"])).one()
        assert pair.rank is None and pair.score is None and pair.meeting_place == ""
        assert pair.explanation["outside_ranking"] is True
        assert pair.explanation["outside_reason"] == "Sa sœur l'emmène à Mirande"
        event = db.session.scalars(
            select(StatusEvent)
            .where(StatusEvent.entity == EventEntity.PAIR, StatusEvent.entity_id == pair.id)
            .order_by(StatusEvent.id)
        ).first()
        assert event.reason == "Proposé hors classement : Sa sœur l'emmène à Mirande"
        pair_id = pair.id
    text = _page(b, f"/referent/binomes/{pair_id}/explication")
    assert "hors classement" in text and "aucune" in text and "Sa sœur l" in text
    # The demande's list of proposals says it too.
    listed = _page(b, url).split("Propositions pour cette demande")[1]
    assert "hors classement</strong> : Sa sœur l'emmène à Mirande" in listed


def test_waiting_list_then_back_when_a_tutor_fits(app, world):
    b = _browser(app, world["referent"])
    url = f"/referent/demandes/{world['request']}"
    before = _counts(app, world["request"])
    r = b.post(f"{url}/liste-attente", {"wait-reason": "  "}, page=url)
    assert r.status_code == 422 and _counts(app, world["request"]) == before
    r = b.post(f"{url}/liste-attente", {"wait-reason": "Aucun tuteur à moins de 15 km"}, page=url)
    assert r.status_code == 302
    assert _counts(app, world["request"])[2] == TutoringRequestStatus.WAITING
    page = _page(b, url)
    assert "Demande en liste d'attente" in page and "Aucun tuteur à moins de 15 km" in page
    dash = b.get("/referent/?statut=demandes").get_data(as_text=True)
    assert url not in dash  # out of the urgent list
    dash = _page(b, "/referent/")
    assert url not in dash and "En liste d'attente : 1 demande pour laquelle" in dash
    # Twice: the state changed.
    r = b.post(f"{url}/liste-attente", {"wait-reason": "encore"}, page=url)
    assert r.status_code == 409
    with app.app_context():
        # Nobody new: stays waiting; a freed place (the near tutor was full) brings it back.
        db.session.get(TutorProfile, world["near"]).places_used = 1
        db.session.commit()
        assert followup.recheck_waiting() == 0
        assert db.session.get(TutoringRequest, world["request"]).status == "waiting"
        db.session.get(TutorProfile, world["near"]).places_used = 0
        db.session.commit()
        assert followup.recheck_waiting() == 1
        assert db.session.get(TutoringRequest, world["request"]).status == "open"
        mail = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == "waiting_candidate")
        ).one()
        assert mail.recipient == world["referent"]
        assert "1 tuteur possible est maintenant disponible" in mail.body_text


def test_a_proposed_demande_cannot_go_on_the_waiting_list(app, world):
    with app.app_context():
        tutoring_request = db.session.get(TutoringRequest, world["request"])
        referent = tutoring_request.mentee.mentee_profile.referent
        pair_service.propose(tutoring_request, world["near"], actor=referent)
        db.session.commit()
    b = _browser(app, world["referent"])
    url = f"/referent/demandes/{world['request']}"
    before = _counts(app, world["request"])
    r = b.post(f"{url}/liste-attente", {"wait-reason": "Rien"}, page=url)
    assert r.status_code == 409 and _counts(app, world["request"]) == before


def test_the_admin_sees_where_tutors_are_missing(app, world):
    with app.app_context():
        admin = make_admin()
        db.session.commit()
        admin_email = admin.email
    b = _browser(app, admin_email)
    assert "chaque demande en attente (1) a au moins un tuteur possible" in _page(b, "/admin/")
    _decline(app, world)  # the only tutor who fitted declined: only a tutor too far is left
    home = _page(b, "/admin/")
    assert "1 demande sur 1" in home
    assert '<th scope="row">Auch' in home and "Tuteurs trop loin" in home
    page = _page(b, "/indicateurs/manques")
    assert f"n° {world['request']}" in page and "Grand Auch" in page
    # A référent sees their caseload only, on the same page.
    r = _page(_browser(app, world["referent"]), "/indicateurs/manques")
    assert f"n° {world['request']}" in r
