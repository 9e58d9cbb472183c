"""Applying to become a tutor on a phone (360 px) in Debian's Chromium, then the vetting, axe-clean,
then the first proposal to the new tutor (the journey of issue 17, as test_vetting walks it)."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, make_admin, make_mentee, make_referent
from tests.tutorat.browser_support import ARTIFACTS, CHROMIUM_ARGS, LiveServer, require_chromium
from tests.tutorat.test_accessibility import axe_violations, load_axe_script
from tutorat.extensions import db
from tutorat.models import ApplicationStatus, Pair, PairStatus, TutorApplication, TutorProfile
from tutorat.services import requests as request_service
from tutorat.services import vetting

pytestmark = pytest.mark.browser
WIDTH = 360


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _clean(page, axe: str, label: str) -> None:
    violations = axe_violations(page, axe)
    assert violations == [], (label, [(v["id"], v["nodes"][0]["html"][:160]) for v in violations])
    assert _fits(page), f"défilement horizontal sur {label} à {WIDTH} px"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"candidature-{WIDTH}-{name}.png"), full_page=True)


def test_apply_on_a_phone_then_vetting(app):
    chromium_path = require_chromium()
    axe = load_axe_script()
    from playwright.sync_api import sync_playwright

    with app.app_context():
        admin_email = make_admin().email
        # A mentee in Auch whose demande waits: the new tutor will be proposed to her.
        referent = make_referent()
        mentee = make_mentee(referent, first_name="Julie", commune="32013", metiers="J1501")
        request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["in_person"], message="Bonjour"
        )
        referent_email = referent.email
        db.session.commit()
    with LiveServer(app) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(
                viewport={"width": WIDTH, "height": 800}, locale="fr-FR"
            ).new_page()
            page.goto(server.url)
            page.get_by_role("link", name="Devenir tuteur ou tutrice").click()
            page.wait_for_load_state()
            assert page.url.endswith("/devenir-tuteur")
            _clean(page, axe, "le formulaire de candidature")
            # The honeypot is out of sight and out of the keyboard's way.
            assert not page.locator("input[name=website]").is_visible() or page.evaluate(
                "document.querySelector('input[name=website]').getBoundingClientRect().right < 0"
            )
            assert page.locator("input[name=website]").get_attribute("tabindex") == "-1"

            # First with a mistake: an unknown commune, and the charter not ticked.
            page.locator("#first_name").fill("Nadia")
            page.locator("#last_name").fill("Bernès")
            page.locator("#email").fill("nadia.bernes@test.example.org")
            page.locator("#commune").fill("Auchh")
            page.locator("#metier").fill("aide-soignant")
            page.get_by_label("mardi soir").check()
            page.get_by_label("samedi matin").check()
            page.locator("input[name=has_car][value=yes]").check()
            page.locator("#max_km").fill("20")
            page.get_by_label(re.compile("J'accepte que le Conseil")).check()
            time.sleep(3.2)  # a person takes longer than the minimum fill time
            page.get_by_role("button", name="Envoyer ma candidature").click()
            page.wait_for_load_state()
            content = page.content()
            assert "Le formulaire contient des erreurs" in content
            assert "Lisez la charte" in content
            _clean(page, axe, "le formulaire de candidature en erreur")
            _shot(page, "erreurs")

            page.locator("#commune").fill("Auch")
            page.get_by_label(re.compile("J'ai lu la charte")).check()
            page.get_by_role("button", name="Envoyer ma candidature").click()
            page.wait_for_load_state()
            assert "Merci, votre candidature est envoyée" in page.content()
            _clean(page, axe, "la page de remerciement")

            page.goto(server.url + "/charte-des-tuteurs")
            _clean(page, axe, "la charte des tuteurs")

            with app.app_context():
                application = db.session.scalars(select(TutorApplication)).one()
                assert application.status == ApplicationStatus.TO_REVIEW
                assert application.commune_code == "32013"
                application_id = application.id

            # The administration vets it, on a phone too.
            admin = browser.new_context(
                viewport={"width": WIDTH, "height": 800}, locale="fr-FR"
            ).new_page()
            admin.goto(server.url + "/connexion")
            admin.get_by_label("Adresse électronique").fill(admin_email)
            admin.get_by_label("Mot de passe").fill(PASSWORD)
            admin.get_by_role("button", name="Se connecter").click()
            admin.wait_for_load_state()
            assert "1 candidature de tuteur à examiner" in admin.content()
            admin.get_by_role("link", name="Voir les candidatures à examiner").click()
            admin.wait_for_load_state()
            _clean(admin, axe, "la liste des candidatures")
            admin.get_by_role("link", name="Bernès Nadia").click()
            admin.wait_for_load_state()
            assert admin.url.endswith(f"/admin/candidatures/{application_id}")
            _clean(admin, axe, "une candidature")
            today = date.today().isoformat()
            for label in ("identité vérifiée", "bulletin n° 3", "réunion d'information"):
                admin.get_by_label(re.compile("Date : .*" + re.escape(label))).fill(today)
                admin.get_by_label(re.compile("Date : .*" + re.escape(label))).press("Enter")
                admin.wait_for_load_state()
                assert "Enregistré" in admin.content(), label
            admin.get_by_role("button", name="Valider la candidature").click()
            admin.wait_for_load_state()
            assert "est validé" in admin.content()
            _shot(admin, "validee")
            with app.app_context():
                application = db.session.get_one(TutorApplication, application_id)
                assert application.status == ApplicationStatus.VALIDATED
                profile = db.session.get_one(TutorProfile, application.tutor_id)
                assert profile.validated_at is not None
                tutor_id = application.tutor_id

            # The first proposal to the new tutor: a référent, on a phone, proposes her.
            ref = browser.new_context(
                viewport={"width": WIDTH, "height": 800}, locale="fr-FR"
            ).new_page()
            ref.goto(server.url + "/connexion")
            ref.get_by_label("Adresse électronique").fill(referent_email)
            ref.get_by_label("Mot de passe").fill(PASSWORD)
            ref.get_by_role("button", name="Se connecter").click()
            ref.wait_for_load_state()
            ref.get_by_role("link", name=re.compile("Julie")).first.click()
            ref.wait_for_load_state()
            assert "Nadia Bernès" in ref.content()
            assert _fits(ref), "défilement horizontal sur la page de la demande"
            ref.get_by_role("button", name="Proposer ce tuteur : Nadia Bernès").click()
            ref.wait_for_load_state()
            assert "La proposition est envoyée" in ref.content()
            _shot(ref, "premiere-proposition")
            with app.app_context():
                pair = db.session.scalars(select(Pair).where(Pair.tutor_id == tutor_id)).one()
                assert pair.status == PairStatus.PROPOSED
        finally:
            browser.close()


def test_the_new_pages_of_issue_17_are_axe_clean_on_a_phone(app):
    """The loop's question on the mentee's ended binôme, the tutor's attestation link, the
    recruiting indicators, the public form opened from a former mentee's invitation, and the
    applicant's withdrawal page: axe-clean and without horizontal scrolling at 360 px."""
    from tests.tutorat.test_loop import _apply_public, _ended_pair
    from tutorat.services import loop

    chromium_path = require_chromium()
    axe = load_axe_script()
    from playwright.sync_api import sync_playwright

    with app.app_context():
        pair = _ended_pair(("job",))
        loop.record_answer(pair, actor=pair.mentee, yes=True)
        admin_email = make_admin().email
        db.session.commit()
        people = {"mentee": pair.mentee.email, "tutor": pair.tutor.email, "admin": admin_email}
        pair_id, token = pair.id, loop.invitation_token(pair)
    application = _apply_public(app)
    with app.app_context():
        withdrawal = vetting.withdrawal_token(db.session.get_one(TutorApplication, application.id))

    with LiveServer(app) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:

            def person(email: str | None):
                page = browser.new_context(
                    viewport={"width": WIDTH, "height": 800}, locale="fr-FR"
                ).new_page()
                if email:
                    page.goto(server.url + "/connexion")
                    page.get_by_label("Adresse électronique").fill(email)
                    page.get_by_label("Mot de passe").fill(PASSWORD)
                    page.get_by_role("button", name="Se connecter").click()
                    page.wait_for_load_state()
                return page

            mentee = person(people["mentee"])
            mentee.goto(f"{server.url}/beneficiaire/binome/{pair_id}")
            assert "aider à votre tour" in mentee.content()
            _clean(mentee, axe, "la question « aider à votre tour »")
            mentee.goto(server.url + "/compte/")
            assert "Retirer mon accord" in mentee.content()
            _clean(mentee, axe, "« Mon compte » avec l'accord à retirer")

            tutor = person(people["tutor"])
            tutor.goto(f"{server.url}/tuteur/binome/{pair_id}")
            assert "attestation de bénévolat" in tutor.content()
            _clean(tutor, axe, "le binôme terminé, côté tuteur")

            admin = person(people["admin"])
            admin.goto(server.url + "/indicateurs/recrutement")
            assert "Candidatures reçues" in admin.content()
            _clean(admin, axe, "les indicateurs de recrutement")
            admin.goto(server.url + "/admin/candidatures/")
            _clean(admin, axe, "les candidatures et le réglage des anciens bénéficiaires")

            anonymous = person(None)
            anonymous.goto(f"{server.url}/devenir-tuteur?ancien={token}")
            anonymous.get_by_label(re.compile("J'accepte que mes nom et coordonnées")).check()
            anonymous.get_by_role("button", name="Remplir avec mon profil").click()
            anonymous.wait_for_load_state()
            assert people["mentee"] in anonymous.content()
            _clean(anonymous, axe, "le formulaire pré-rempli d'une ancienne bénéficiaire")
            # The commune's suggestions, without an account.
            anonymous.locator("#commune").fill("")
            anonymous.locator("#commune").type("Lecto")
            anonymous.wait_for_selector("[role=option]", timeout=5000)
            assert "Lectoure" in anonymous.content()
            anonymous.goto(f"{server.url}/devenir-tuteur/retirer/{withdrawal}")
            _clean(anonymous, axe, "le retrait d'une candidature")
            anonymous.get_by_role("button", name="Retirer ma candidature").click()
            anonymous.wait_for_load_state()
            assert "Votre candidature est retirée" in anonymous.content()
        finally:
            browser.close()
