"""« Ce que montrent les décisions » : proposals keep what was shown; the admin sees, simulates, adopts (or not)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import Browser
from tests.factories import (
    PASSWORD,
    make_admin,
    make_mentee,
    make_proposal,
    make_referent,
    make_tutor,
)
from tutorat.extensions import db
from tutorat.models import Pair, PairOutcome, PairStatus, TutoringRequest
from tutorat.services import decisions, suggestions
from tutorat.services import requests as request_service

PARTS = ("distance", "sector", "availability", "experience")


def _login(app, email):
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


def test_a_proposal_keeps_the_ranked_list_it_was_chosen_from(ctx):
    referent = make_referent()
    mentee = make_mentee(referent)
    near = make_tutor(commune="32013")  # Auch, where the mentee lives
    far = make_tutor(commune="32307")  # Pavie
    pair = make_proposal(referent, mentee, far)
    shown = pair.shown_candidates
    assert [c["rank"] for c in shown] == list(range(1, len(shown) + 1))
    assert {c["tutor_id"] for c in shown} >= {near.id, far.id}
    assert set(shown[0]["parts"]) == set(PARTS)
    assert all(0.0 <= v <= 1.0 for c in shown for v in c["parts"].values())
    # The chosen tutor was not the first: this decision says something.
    data = decisions.learning_data()
    assert len(data.decisions) == 1 and len(data.decisions[0].others) == len(shown) - 1


def _synthetic_history(n: int, seed: int, prefer_distance: bool) -> None:
    """n past proposals (ended or declined), written as rows: what proposals of the past would have kept."""
    rng = np.random.default_rng(seed)
    referent = make_referent()
    mentee = make_mentee(referent)
    tutor = make_tutor()
    req = request_service.open_request(
        mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
    )
    db.session.flush()
    for i in range(n):
        parts = rng.uniform(0, 1, size=(5, 4))
        utility = parts @ np.array([0.6, 0.2, 0.1, 0.1]) if prefer_distance else rng.uniform(size=5)
        best = int(np.argmax(utility))
        success = rng.uniform() < 0.2 + 0.6 * parts[best, 2]
        db.session.add(
            Pair(
                request_id=req.id,
                mentee_id=mentee.id,
                tutor_id=tutor.id,
                proposed_by_id=referent.id,
                status=PairStatus.ENDED if i % 3 else PairStatus.DECLINED,
                outcome_rows=(
                    [PairOutcome(outcome="job" if success else "stopped")] if i % 3 else []
                ),
                explanation={
                    "parts": {p: {"value": float(parts[best, k])} for k, p in enumerate(PARTS)}
                },
                shown_candidates=[
                    {
                        "tutor_id": tutor.id if j == best else 10_000 + j,
                        "rank": j + 1,
                        "parts": {p: float(parts[j, k]) for k, p in enumerate(PARTS)},
                    }
                    for j in range(5)
                ],
            )
        )
    db.session.flush()


def test_the_page_without_any_decision_explains_instead_of_failing(app):
    with app.app_context():
        email = make_admin().email
        db.session.commit()
    html = _login(app, email).get("/admin/decisions").get_data(as_text=True)
    assert "Aucune décision à étudier" in html and "Pas assez de décisions" in html
    assert "Aucune suggestion pour l'instant" in html


def test_random_history_gives_no_suggestion(ctx):
    _synthetic_history(80, seed=5, prefer_distance=False)
    report = decisions.report()
    assert report.choice.enough and not report.choice.signal
    assert report.suggestion is None and report.current_outcome is None


def test_learn_simulate_adopt_publish_and_refuse_a_stale_adoption(app):
    with app.app_context():
        _synthetic_history(120, seed=4, prefer_distance=True)
        admin_email = make_admin().email
        db.session.commit()
    b = _login(app, admin_email)
    html = b.get("/admin/decisions").get_data(as_text=True)
    assert "Les poids que les référents appliquent" in html and "120 propositions" in html
    assert "Adopter ces poids (version 1)" in html
    assert "Personnes pour qui un tuteur serait trouvé" in html
    assert html.count("optimum prouvé") == 2  # current and suggested weights: the dual bound is met
    with app.app_context():
        report = decisions.report()
        suggested = report.suggestion
        assert suggested is not None and suggested["distance"] > 0.45
        assert report.current_outcome is not None and report.current_outcome.open_requests >= 1
    form = {name: str(suggested[name]) for name in PARTS}
    r = b.post("/admin/decisions/adopter", {**form, "version": "0"}, page="/admin/decisions")
    assert r.status_code == 302
    with app.app_context():
        assert suggestions.current_weights().to_dict() == pytest.approx(suggested)
        version = suggestions.weights_versions()[-1]
        assert version.number == 1 and "Ce que montrent les décisions" in version.how
    public = app.test_client().get("/algorithme").get_data(as_text=True)
    assert "Version 1, adoptée le" in public and "Ce que montrent les décisions" in public
    # Someone adopted version 1 meanwhile: deciding on version 0's figures is refused, nothing written.
    r = b.post("/admin/decisions/adopter", {**form, "version": "0"}, page="/admin/decisions")
    assert r.status_code == 409
    assert "changés pendant que vous lisiez" in r.get_data(as_text=True)
    with app.app_context():
        assert suggestions.weights_versions()[-1].number == 1


@pytest.mark.parametrize(
    "change",
    [
        {"distance": "-1"},
        {"distance": "abc"},
        {"version": "x"},
        {"distance": "0", "sector": "0", "availability": "0", "experience": "0"},
    ],
)
def test_bad_adoptions_are_refused_in_french(app, change):
    with app.app_context():
        email = make_admin().email
        db.session.commit()
    b = _login(app, email)
    form = {
        "distance": "0.4",
        "sector": "0.3",
        "availability": "0.1",
        "experience": "0.2",
        "version": "0",
        **change,
    }
    r = b.post("/admin/decisions/adopter", form, page="/admin/decisions")
    assert 400 <= r.status_code < 500
    with app.app_context():
        assert suggestions.weights_versions()[-1].number == 0
        assert db.session.query(TutoringRequest).count() >= 0
