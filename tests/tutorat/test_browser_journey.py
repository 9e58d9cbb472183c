"""The whole journey in a real headless Chromium (Debian's), driven by Playwright, at phone and desktop widths."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tests.tutorat.browser_support import ARTIFACTS, CHROMIUM_ARGS, LiveServer, require_chromium
from tutorat.extensions import db
from tutorat.models import Meeting, Pair, User

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


class Person:
    def __init__(self, chromium, base: str, email: str, width: int, shots: str):
        self.context = chromium.new_context(
            viewport={"width": width, "height": 900}, locale="fr-FR"
        )
        self.page = self.context.new_page()
        self.base, self.width, self.shots = base, width, shots
        self.page.goto(f"{base}/connexion")
        self.page.get_by_label("Adresse électronique").fill(email)
        self.page.get_by_label("Mot de passe").fill(PASSWORD)
        self.page.get_by_role("button", name="Se connecter").click()
        self.page.wait_for_load_state()
        assert "/connexion" not in self.page.url, self.page.content()[:2000]

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def shot(self, name: str):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(
            path=str(ARTIFACTS / f"{self.shots}-{self.width}-{name}.png"), full_page=True
        )
        assert _no_horizontal_scroll(self.page), (
            f"défilement horizontal sur {self.page.url} à {self.width} px"
        )


@pytest.mark.parametrize("width", [360, 1280])
def test_journey_in_chromium(app, chromium, width):
    with app.app_context():
        referent = make_referent(first_name="Sophie", last_name="Lamothe")
        mentee = make_mentee(referent, complete=False, first_name="Julie", last_name="Carrère")
        make_tutor(first_name="Marc", last_name="Soubiran", capacity=2)
        admin = make_admin()
        db.session.commit()
        emails = {
            "referent": referent.email,
            "mentee": mentee.email,
            "admin": admin.email,
            "tutor": db.session.scalars(
                select(User.email).where(User.last_name == "Soubiran")
            ).one(),
        }

    with LiveServer(app) as server:
        home = chromium.new_page(viewport={"width": width, "height": 900})
        home.goto(server.url)
        assert "Tutorat" in home.title() and home.locator("html").get_attribute("lang") == "fr"
        home.close()

        # The mentee completes their profile and requests a tutor.
        m = Person(chromium, server.url, emails["mentee"], width, "beneficiaire")
        page = m.go("/beneficiaire/profil")
        page.get_by_label("Votre commune").fill("Auch")
        page.get_by_label(re.compile(r"^Métier visé")).fill("aide-soignant")
        page.get_by_label("mardi soir").check()
        page.get_by_label("samedi matin").check()
        page.locator("input[name=has_car][value=no]").check()
        page.get_by_label(re.compile("Distance maximale")).fill("10")
        m.shot("profil")
        page.get_by_role("button", name="Enregistrer le profil").click()
        page.wait_for_load_state()
        assert "Votre profil est enregistré" in page.content()
        page = m.go("/beneficiaire/demande")
        page.get_by_label("Faire ou refaire son CV").check()
        page.get_by_label("En personne").check()
        page.get_by_label(re.compile("qu'attendez-vous")).fill(
            "Je voudrais devenir aide-soignante."
        )
        page.get_by_role("button", name="Envoyer la demande").click()
        page.wait_for_load_state()
        assert "Votre demande est envoyée" in page.content()

        # The référent sees the ranked tutors with their reasons and proposes one.
        r = Person(chromium, server.url, emails["referent"], width, "referent")
        page = r.go("/referent/")
        page.get_by_role("link", name=re.compile("Julie")).first.click()
        page.wait_for_load_state()
        content = page.content()
        assert "Marc Soubiran" in content and "km" in content and "mardi soir" in content
        r.shot("demande-candidats")
        page.get_by_role("button", name="Proposer ce tuteur : Marc Soubiran").click()
        page.wait_for_load_state()
        assert "La proposition est envoyée" in page.content()

        # The tutor accepts.
        t = Person(chromium, server.url, emails["tutor"], width, "tuteur")
        page = t.go("/tuteur/")
        page.get_by_role("link", name=re.compile("Voir et répondre")).first.click()
        page.wait_for_load_state()
        assert "Julie" in page.content() and "Carrère" not in page.content()
        t.shot("proposition")
        page.get_by_label("J'accepte").check()
        page.get_by_role("button", name="Envoyer ma réponse").click()
        page.wait_for_load_state()
        assert "Votre accord est enregistré" in page.content()

        # The mentee accepts; the référent confirms.
        page = m.go("/beneficiaire/")
        with app.app_context():
            pair_id = db.session.scalars(
                select(Pair.id)
                .join(User, User.id == Pair.mentee_id)
                .where(User.email == emails["mentee"])
            ).one()
        page = m.go(f"/beneficiaire/binome/{pair_id}")
        page.get_by_label("J'accepte").check()
        page.get_by_role("button", name="Envoyer ma réponse").click()
        page.wait_for_load_state()
        assert "Votre réponse est enregistrée" in page.content()
        page = r.go(f"/referent/binomes/{pair_id}")
        page.get_by_role("button", name="Confirmer le binôme").click()
        page.wait_for_load_state()
        assert "Le binôme est confirmé" in page.content()

        # The tutor logs a meeting; the référent sees it and the history.
        page = t.go("/tuteur/")
        page.get_by_role("link", name=re.compile("Noter une rencontre")).first.click()
        page.wait_for_load_state()
        page.get_by_label("Date de la rencontre").fill(date.today().isoformat())
        page.get_by_label(re.compile("Durée")).fill("45")
        page.get_by_label("En personne").check()
        page.get_by_label(re.compile("Une courte note")).fill("CV relu, prochain rendez-vous fixé.")
        t.shot("rencontre")
        page.get_by_role("button", name="Enregistrer la rencontre").click()
        page.wait_for_load_state()
        assert "La rencontre est enregistrée" in page.content()
        page = r.go(f"/referent/binomes/{pair_id}")
        content = page.content()
        assert "CV relu, prochain rendez-vous fixé." in content and "Sophie Lamothe" in content
        r.shot("binome")

        # The admin creates a référent account.
        a = Person(chromium, server.url, emails["admin"], width, "admin")
        page = a.go("/admin/comptes/nouveau")
        page.locator("input[name=role][value=referent]").check()
        page.locator("input[name=first_name]").fill("Nina")
        page.locator("input[name=last_name]").fill("Navigateur")
        page.get_by_label("Adresse électronique").fill(f"nina{width}@test.example.org")
        page.get_by_role("button", name="Créer le compte").click()
        page.wait_for_load_state()
        assert "Le compte de Nina Navigateur est créé" in page.content()

        for person in (m, r, t, a):
            person.context.close()

    with app.app_context():
        assert (
            db.session.scalar(select(Meeting.duration_minutes).where(Meeting.pair_id == pair_id))
            == 45
        )
        assert db.session.get(Pair, pair_id).status == "active"
