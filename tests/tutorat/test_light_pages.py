"""A demande page shows the first ranked tutors, more on request: its size does not follow the pool."""

from __future__ import annotations

from tests.conftest import Browser
from tests.factories import PASSWORD, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.services import requests as request_service


def test_the_demande_page_shows_the_first_tutors_and_more_on_request(app):
    shown = app.config["CANDIDATES_SHOWN"]
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, remote_ok=True)
        for _ in range(shown + 6):
            make_tutor(remote_ok=True, capacity=2)
        tutoring_request = request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.commit()
        email, url = referent.email, f"/referent/demandes/{tutoring_request.id}"
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    page = b.get(url).get_data(as_text=True)
    assert page.count('<td data-label="Rang">') == shown
    assert f"Voici les {shown} premiers." in page and "Voir 10 tuteurs de plus" in page
    more = b.get(f"{url}?nombre={shown + 10}").get_data(as_text=True)
    assert more.count('<td data-label="Rang">') == shown + 6  # every feasible tutor
    assert "Voir 10 tuteurs de plus" not in more
    bad = b.get(f"{url}?nombre=mille")
    assert bad.status_code == 400 and "Nombre de tuteurs inconnu" in bad.get_data(as_text=True)
