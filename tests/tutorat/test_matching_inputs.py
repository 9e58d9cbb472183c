"""Inputs the matching engine refuses reach people as French 4xx, never a 500 (issue 18).

matching raises `MatchingInputError` (a ValueError) with a French message; the application checks
ROME codes against the repertory before scoring, and shows any refusal it did not foresee as a 400.
"""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

import matching
from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import TutoringRequest
from tutorat.services import batch, reference, suggestions
from tutorat.services import requests as request_service
from tutorat.services.errors import Conflict, DomainError


def _login(app, email):
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


def test_unknown_rome_codes_are_those_not_in_the_repertory(ctx):
    assert reference.unknown_rome_codes(["K1302", "K13", "K", "K9999", "N99", "J1501"]) == [
        "K9999",
        "N99",
    ]
    assert reference.unknown_rome_codes([]) == []


def test_a_demande_with_an_unknown_rome_code_is_not_scored(app):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, metiers="K9999", remote_ok=True)  # well formed, unknown
        make_tutor(remote_ok=True)
        req = request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.commit()
        request_id, email = req.id, referent.email
        with pytest.raises(DomainError, match="inconnu du répertoire ROME"):
            suggestions.candidates_for(db.session.get(TutoringRequest, request_id))
        # Batch matching counts it with the profiles that cannot be scored.
        plan = batch.plan()
        assert (plan.open_requests, plan.incomplete, plan.matched) == (1, 1, 0)
    page = _login(app, email).client.get(f"/referent/demandes/{request_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "code inconnu du répertoire ROME (K9999)" in html


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: matching.assign([[0.5]], [4]), "Places libres : de 0 à 3"),
        (lambda: matching.assign([[0.5]], [-1]), "Places libres : de 0 à 3"),
        (lambda: matching.Weights(distance=1.5), "entre 0 et 1"),
        (lambda: matching.Weights(distance=-0.1), "entre 0 et 1"),
        (lambda: matching.Weights(0, 0, 0, 0), "Tous les poids sont nuls"),
        (lambda: matching.Weights(distance=math.nan), "nombre fini"),
        (lambda: matching.Weights(distance=math.inf), "nombre fini"),
        (
            lambda: matching.Mentee(1, 43.6, 0.5, ("K130",), 1, 10.0, True, False),
            "Code ROME mal formé",
        ),
        (
            lambda: matching.top_candidates(
                matching.Mentee(1, 43.6, 0.5, ("K1302",), 1, 10.0, True, False), [], k=0
            ),
            "au moins 1",
        ),
    ],
)
def test_matching_refuses_with_a_french_value_error(make, message):
    with pytest.raises(matching.MatchingInputError, match=message) as caught:
        make()
    assert isinstance(caught.value, ValueError)


def test_refusals_no_view_caught_are_french_4xx(app):
    """A MatchingInputError is a French 400, a Conflict a 409, another DomainError a 422: never a 500."""
    for error, status, text in [
        (
            matching.MatchingInputError("Places libres : de 0 à 3, pas 4."),
            400,
            "Le classement ne peut pas être calculé avec ces données : Places libres",
        ),
        (Conflict("Ce tuteur vient d'être pris."), 409, "Ce tuteur vient d&#39;être pris."),
        (DomainError("Donnée refusée par une règle."), 422, "Donnée refusée par une règle."),
    ]:
        with app.test_request_context("/referent/"):
            response = app.make_response(app.handle_user_exception(error))
        assert response.status_code == status, error
        assert text in response.get_data(as_text=True)


def test_weights_outside_0_1_are_refused_in_french(app):
    with app.app_context():
        admin = make_admin()
        db.session.commit()
        email = admin.email
    b = _login(app, email)
    page = b.client.get("/admin/poids")
    assert page.status_code == 200
    with app.app_context():
        before = suggestions.current_weights()
        with pytest.raises(DomainError, match="entre 0 et 1"):
            suggestions.set_weights(
                {"distance": 2.0, "sector": 0.3, "availability": 0.1, "experience": 0.1},
                actor=db.session.scalars(
                    select(type(admin)).where(type(admin).email == email)
                ).one(),
            )
        db.session.rollback()
        assert suggestions.current_weights() == before


# --------------------------------------------------------------------------------------------
# The minimum score (issue 18): an admin setting, published, applied to rankings and batch matching
# --------------------------------------------------------------------------------------------


def test_the_admin_sets_a_minimum_score_checked_and_published(app):
    from tests.conftest import csrf_from

    with app.app_context():
        admin = make_admin()
        db.session.commit()
        email = admin.email
    b = _login(app, email)
    page = b.client.get("/admin/poids")
    assert page.status_code == 200 and "Note minimale" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    for bad in ("150", "-5", "douze", "0,5"):
        response = b.client.post(
            "/admin/poids/note-minimale", data={"csrf_token": token, "min_score": bad}
        )
        assert response.status_code == 422, bad
        assert "Entre 0 et 100" in response.get_data(
            as_text=True
        ) or "nombre entier entre 0 et 100" in response.get_data(as_text=True)
        with app.app_context():
            assert suggestions.current_min_score() is None
    assert "Aucune note minimale n" in b.client.get("/algorithme").get_data(as_text=True)
    response = b.client.post(
        "/admin/poids/note-minimale", data={"csrf_token": token, "min_score": "40"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert suggestions.current_min_score() == pytest.approx(0.4)
    assert "note minimale de <strong>40 %</strong>" in b.client.get("/algorithme").get_data(
        as_text=True
    )
    assert 'value="40"' in b.client.get("/admin/poids").get_data(as_text=True)
    # Empty: no minimum again.
    response = b.client.post(
        "/admin/poids/note-minimale", data={"csrf_token": token, "min_score": ""}
    )
    assert response.status_code == 302
    with app.app_context():
        assert suggestions.current_min_score() is None
        with pytest.raises(DomainError, match="Score minimum : entre 0 et 1"):
            suggestions.set_min_score(1.5, actor=make_admin())


def test_no_tutor_under_the_minimum_is_ranked_nor_paired(app):
    with app.app_context():
        admin = make_admin()
        referent = make_referent()
        mentee = make_mentee(referent, commune="32013", metiers="J1501", remote_ok=True)
        good = make_tutor(commune="32013", metier="J1501", remote_ok=True)  # note 80 %
        weak = make_tutor(commune="32013", metier="A1101", remote_ok=True)  # another métier
        req = request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.commit()
        ids = (req.id, good.id, weak.id, referent.email)
        candidates, feasible = suggestions.candidates_for(req)
        assert [c.tutor.id for c in candidates] == [good.id, weak.id] and feasible == 2
        suggestions.set_min_score(0.7, actor=admin)
        db.session.commit()
        candidates, feasible = suggestions.candidates_for(db.session.get(TutoringRequest, ids[0]))
        assert [c.tutor.id for c in candidates] == [good.id] and feasible == 1
        # Batch matching: the good tutor has one place; the weak one is never used to add a pair.
        plan = batch.plan()
        assert [(p.request_id, p.tutor_id) for p in plan.proposals] == [(ids[0], good.id)]
    html = _login(app, ids[3]).client.get(f"/referent/demandes/{ids[0]}").get_data(as_text=True)
    assert "Note sous le minimum fixé" in html


def test_batch_leaves_a_person_unmatched_rather_than_pair_under_the_minimum(app):
    with app.app_context():
        admin = make_admin()
        referent = make_referent()
        mentee = make_mentee(referent, commune="32013", metiers="J1501", remote_ok=True)
        make_tutor(commune="32013", metier="A1101", remote_ok=True)
        request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.commit()
        assert batch.plan().matched == 1
        suggestions.set_min_score(0.7, actor=admin)
        db.session.commit()
        plan = batch.plan()
        assert plan.matched == 0 and plan.optimality == "optimum prouvé"
