"""The demande page in Chromium (issue 13): the compact ranking opens to its reasons, the left-out
tutors and the diagnosis are there, a tutor is proposed outside the ranking — at 360 and 1280 px,
axe-core clean, without horizontal scrolling."""

from __future__ import annotations

import pytest

from tests.factories import make_mentee, make_referent, make_tutor
from tests.tutorat.browser_support import CHROMIUM_ARGS, LiveServer, require_chromium
from tests.tutorat.test_accessibility import axe_violations, load_axe_script
from tests.tutorat.test_browser_journey import Person
from tutorat.extensions import db
from tutorat.services import requests as request_service
from tutorat.services import suggestions

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_demande_page_in_chromium(app, chromium, width):
    with app.app_context():
        suggestions._POOLS.clear()
        referent = make_referent()
        mentee = make_mentee(referent, commune="32013", first_name="Julie", last_name="Carrère")
        make_tutor(commune="32307", first_name="Marc", last_name="Soubiran")
        make_tutor(commune="32256", first_name="Lina", last_name="Lointaine", remote_ok=True)
        tutoring_request = request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.commit()
        email, request_id = referent.email, tutoring_request.id
    axe = load_axe_script()
    with LiveServer(app) as server:
        r = Person(chromium, server.url, email, width, "decision")
        page = r.go(f"/referent/demandes/{request_id}")
        # The compact table: a row opens to its reasons.
        reasons = page.locator("table.compare details")
        assert not reasons.first.evaluate("d => d.open")
        page.locator("table.compare summary", has_text="Marc Soubiran").click()
        assert reasons.first.evaluate("d => d.open")
        assert page.locator("table.compare").get_by_text("Créneaux communs").first.is_visible()
        # Who was left out and why; what would help.
        assert page.get_by_text("Trop loin").first.is_visible()
        assert page.get_by_text("Avec des rencontres à distance").is_visible()
        assert axe_violations(page, axe) == []
        r.shot("demande")
        # Outside the ranking: search by name, a reason, propose.
        page.get_by_label("Nom du tuteur").fill("Lointaine")
        page.get_by_role("button", name="Chercher").click()
        page.wait_for_load_state()
        page.get_by_label("Pourquoi proposer Lina Lointaine hors classement").fill(
            "Sa sœur l'emmène à Mirande chaque semaine"
        )
        assert axe_violations(page, axe) == []
        r.shot("hors-classement")
        page.get_by_role("button", name="Proposer Lina Lointaine hors classement").click()
        page.wait_for_load_state()
        content = page.content()  # the binôme's page, its history saying why
        assert "proposition hors classement est envoyée" in content
        assert "Proposé hors classement : Sa sœur" in content
