"""« Courriers à envoyer » in a real headless Chromium, at phone and desktop widths: the postal
address entered (a wrong postal code refused), the letters listed, downloaded as one PDF (read back
with pdftotext), marked as sent, and found in the person's history."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.factories import make_mentee, make_referent, make_tutor
from tests.tutorat.browser_support import LiveServer
from tests.tutorat.test_browser_journey import Person, _no_horizontal_scroll, chromium  # noqa: F401
from tests.tutorat.test_letters_sms import pdf_text
from tutorat.extensions import db
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [360, 1280])
def test_letters_list_in_chromium(app, chromium, width):  # noqa: F811
    with app.app_context():
        referent = make_referent(first_name="Sophie", last_name="Lamothe")
        mentee = make_mentee(referent, email=None, first_name="Paulette", last_name="Dubarry")
        tutor = make_tutor(first_name="Marc", last_name="Soubiran", commune="32013")
        db.session.flush()
        ids = {"referent": referent.email, "mentee": mentee.id}
        tutoring_request = request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["in_person"], message="Bonjour"
        )
        db.session.flush()
        pair_service.propose(tutoring_request, tutor.id, actor=referent)
        db.session.commit()

    with LiveServer(app) as server:
        r = Person(chromium, server.url, ids["referent"], width, "courriers")
        # The letter is there, but she has no address yet.
        page = r.go("/referent/")
        page.get_by_role("link", name="Courriers").first.click()
        page.wait_for_load_state()
        assert "Courriers à envoyer" in page.content() and "Adresse manquante" in page.content()
        assert _no_horizontal_scroll(page)
        page.get_by_role("link", name=re.compile("Compléter l'adresse")).click()
        page.wait_for_load_state()
        page.get_by_label(re.compile("^Adresse postale")).fill("4 chemin du Moulin")
        page.get_by_label(re.compile("^Code postal")).fill("32500")
        page.get_by_label("Par courrier postal").check()
        page.get_by_role("button", name="Enregistrer les coordonnées").click()
        page.wait_for_load_state()
        assert "n'est pas celui de Auch" in page.content().replace("&#39;", "'")
        r.shot("coordonnees-erreur")
        page.get_by_label(re.compile("^Code postal")).fill("32000")
        page.get_by_role("button", name="Enregistrer les coordonnées").click()
        page.wait_for_load_state()
        assert "sont enregistrées" in page.content()

        page = r.go("/referent/courriers")
        assert "Adresse manquante" not in page.content()
        r.shot("liste")
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("Télécharger les 1 courrier")).click()
        text = pdf_text(Path(download.value.path()).read_bytes())
        assert "Paulette Dubarry" in text and "4 chemin du Moulin" in text and "32000 AUCH" in text
        assert "Un tuteur vous est proposé" in text and "Soubiran" not in text

        page.get_by_role("button", name=re.compile("Marquer ces 1 courrier")).click()
        page.wait_for_load_state()
        assert "1 courrier(s) marqué(s) comme envoyé(s)" in page.content()
        assert "Aucun courrier à envoyer" in page.content()
        page = r.go(f"/referent/beneficiaires/{ids['mentee']}")
        assert "envoyé le" in page.content()
        assert _no_horizontal_scroll(page)
