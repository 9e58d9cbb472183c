"""The mentee's stop request and private report in Chromium at 360 px (a phone): usable, readable,
and the tutor sees neither the reason nor the words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.factories import make_active_pair, make_mentee, make_referent, make_tutor
from tests.tutorat.browser_support import CHROMIUM_ARGS, LiveServer, require_chromium
from tests.tutorat.test_browser_journey import Person
from tutorat.extensions import db
from tutorat.models import Meeting, Pair, PairReport, PairStatus
from tutorat.services import checkins

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_mentee_reports_then_asks_to_stop_on_a_phone(app, chromium):
    with app.app_context():
        referent = make_referent(first_name="Sophie")
        mentee = make_mentee(referent, first_name="Julie")
        tutor = make_tutor(first_name="Marc")
        pair = make_active_pair(referent, mentee, tutor)
        db.session.add(
            Meeting(
                pair_id=pair.id,
                logged_by_id=tutor.id,
                date=datetime.now(UTC).date(),
                duration_minutes=30,
                mode="phone",
            )
        )
        db.session.flush()
        checkins.ask_due()
        db.session.commit()
        ids = {"pair": pair.id}
        emails = {"mentee": mentee.email, "tutor": tutor.email, "referent": referent.email}

    with LiveServer(app) as server:
        m = Person(chromium, server.url, emails["mentee"], 360, "voix-beneficiaire")
        # Her home page asks how it goes; she answers on the binôme page.
        page = m.go("/beneficiaire/")
        assert "Comment se passe le tutorat" in page.content()
        page.get_by_role("link", name="Répondre").click()
        page.wait_for_load_state()
        page.get_by_label("Moyen").check()
        page.get_by_label("Un mot pour le référent").fill("On se voit peu.")
        m.shot("point")
        page.get_by_role("button", name="Envoyer ma réponse").click()
        page.wait_for_load_state()
        assert "Merci pour votre réponse" in page.content()

        # A problem, told to the référent only; an empty message is refused, in French.
        page.get_by_role("link", name="Signaler un problème au référent").click()
        page.wait_for_load_state()
        assert "Seul votre référent lira votre message" in page.content()
        page.get_by_role("button", name="Envoyer au référent").click()
        page.wait_for_load_state()
        assert "Décrivez le problème" in page.content()
        page.get_by_label("Que se passe-t-il ?").fill("MOT-PRIVÉ : il arrive toujours en retard.")
        m.shot("signaler")
        page.get_by_role("button", name="Envoyer au référent").click()
        page.wait_for_load_state()
        assert "et à lui seul" in page.content()

        # Then she asks to stop, with a reason from the list.
        page.get_by_role("link", name="Demander l'arrêt du binôme").click()
        page.wait_for_load_state()
        page.get_by_label("Je ne me sens pas à l'aise dans ce binôme").check()
        page.get_by_label("Précisions pour le référent").fill("MOT-PRIVÉ-2")
        m.shot("arret")
        page.get_by_role("button", name="Envoyer ma demande d'arrêt").click()
        page.wait_for_load_state()
        assert "Un arrêt du binôme a été demandé" in page.content()
        m.shot("binome")

        # The tutor: the binôme is suspended, nothing of what she wrote, nor why.
        t = Person(chromium, server.url, emails["tutor"], 360, "voix-tuteur")
        page = t.go(f"/tuteur/binome/{ids['pair']}")
        html = page.content()
        assert "Un arrêt du binôme a été demandé" in html
        assert "MOT-PRIVÉ" not in html and "pas à l'aise" not in html
        t.shot("binome")

        # The référent: « À faire » first, the words on the binôme page.
        r = Person(chromium, server.url, emails["referent"], 360, "voix-referent")
        page = r.go("/referent/")
        assert "Arrêt demandé" in page.content()
        r.shot("tableau")
        page = r.go(f"/referent/binomes/{ids['pair']}")
        html = page.content()
        assert "MOT-PRIVÉ" in html and "On se voit peu." in html
        r.shot("binome")

    with app.app_context():
        reports = db.session.scalars(select(PairReport).order_by(PairReport.id)).all()
        assert [r.kind for r in reports] == ["problem", "stop"]
        assert reports[1].reason == "not_comfortable"
        assert db.session.get(Pair, ids["pair"]).status == PairStatus.STOP_REQUESTED
