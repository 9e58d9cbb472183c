"""« Vouliez-vous dire … ? » on a phone (360 px) in Debian's Chromium, without JavaScript's
suggestions: a métier and a commune typed with a mistake come back as radio buttons, axe-clean and
without sideways scrolling; the one she picks is saved, with the job title she picked."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_mentee, make_referent
from tests.tutorat.browser_support import CHROMIUM_ARGS, LiveServer, require_chromium
from tests.tutorat.test_accessibility import load_axe_script
from tests.tutorat.test_browser_apply import _clean
from tests.tutorat.test_browser_journey import Person
from tutorat.extensions import db
from tutorat.models import MenteeProfile

pytestmark = pytest.mark.browser


def test_did_you_mean_on_a_phone(app):
    chromium_path = require_chromium()
    axe = load_axe_script()
    from playwright.sync_api import sync_playwright

    with app.app_context():
        mentee = make_mentee(make_referent(), complete=False, first_name="Julie")
        db.session.commit()
        email, mentee_id = mentee.email, mentee.id
    with LiveServer(app) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            m = Person(browser, server.url, email, 360, "vouliez-vous-dire")
            page = m.go("/beneficiaire/profil")
            assert "15 km au plus" in page.content()  # the no-car rule, next to the distance
            page.get_by_label("Votre commune").fill("fleurence")
            page.get_by_label(re.compile(r"^Métier visé")).fill("boulanjer")
            page.get_by_label("mardi soir").check()
            page.locator("input[name=has_car][value=no]").check()
            page.get_by_label(re.compile("Distance maximale")).fill("30")
            page.get_by_role("button", name="Enregistrer le profil").click()
            page.wait_for_load_state()
            assert page.content().count("Vouliez-vous dire") >= 2
            m.shot("choix")
            _clean(page, axe, "le profil avec « Vouliez-vous dire »")
            page.get_by_label("Fleurance (32500)").check()
            page.get_by_label("Boulanger / Boulangère", exact=True).check()
            page.get_by_role("button", name="Enregistrer le profil").click()
            page.wait_for_load_state()
            assert "Votre profil est enregistré" in page.content()
            assert "Boulanger / Boulangère" in page.content()  # her home page, as she picked it
        finally:
            browser.close()
    with app.app_context():
        profile = db.session.get(MenteeProfile, mentee_id)
        assert profile.commune.nom == "Fleurance"
        assert profile.metier_titles == {"D1102": "Boulanger / Boulangère"}
