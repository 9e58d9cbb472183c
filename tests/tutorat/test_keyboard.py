"""The mentee's part of the journey with the keyboard only, in Debian's Chromium: no click, no fill().

Log in, complete the profile (commune and métier picked from the typing suggestions, the availability grid,
the radio buttons), request a tutor, then answer the proposal. Only Tab, Shift+Tab, the arrows, Space, Enter
and typing; the focus must be visible on what it reaches. axe-core checks each state the mentee sees.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from tests.factories import (
    MARDI_SOIR,
    PASSWORD,
    SAMEDI_MATIN,
    make_mentee,
    make_referent,
    make_tutor,
)
from tests.tutorat.browser_support import ARTIFACTS, CHROMIUM_ARGS, LiveServer, require_chromium
from tests.tutorat.test_accessibility import check_page, load_axe_script
from tutorat.extensions import db
from tutorat.models import Pair, TutoringRequest, User
from tutorat.services import pairs as pair_service

pytestmark = pytest.mark.browser

WIDTH = 1280
MAX_TABS = 80

# What the focused element looks like: its focus indicator must be visible (WCAG 2.4.7).
FOCUS_STYLE_JS = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  return {tag: el.tagName, id: el.id, text: (el.innerText || el.value || '').slice(0, 40),
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0, shadow: s.boxShadow !== 'none'};
}"""


@pytest.fixture(scope="module")
def chromium():
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def axe_script():
    return load_axe_script()


class Keyboard:
    """A person who only uses the keyboard; every move is checked against what has the focus."""

    def __init__(self, page, axe_script: str):
        self.page, self.axe_script = page, axe_script

    def focused(self, selector: str) -> bool:
        return self.page.evaluate("s => document.activeElement.matches(s)", selector)

    def tab_to(self, selector: str, *, backwards: bool = False) -> None:
        """Press Tab (or Shift+Tab) until the focus is on `selector`."""
        key = "Shift+Tab" if backwards else "Tab"
        visited = []
        for _ in range(MAX_TABS):
            self.page.keyboard.press(key)
            if self.focused(selector):
                return
            visited.append(
                self.page.evaluate("() => document.activeElement.outerHTML.slice(0, 80)")
            )
        raise AssertionError(
            f"{selector} jamais atteint avec {key} sur {self.page.url} ; focus vu sur :\n"
            + "\n".join(visited[-15:])
        )

    def assert_focus_visible(self) -> None:
        style = self.page.evaluate(FOCUS_STYLE_JS)
        assert style["outline"] or style["shadow"], f"focus invisible sur {style} ({self.page.url})"

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=15)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def enter_and_wait(self) -> None:
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"clavier-{WIDTH}-{name}.png"))

    def pick_suggestion(
        self, selector: str, typed: str, downs: int, ups: int = 0, shot: str = ""
    ) -> str:
        """Type in a combobox, move in its suggestions with the arrows, take one with Enter."""
        self.tab_to(selector)
        self.assert_focus_visible()
        self.press("Control+A")
        self.type(typed)
        field = self.page.locator(selector)
        listbox = self.page.locator(f"#{field.get_attribute('aria-controls')}")
        listbox.locator("[role=option]").first.wait_for(state="visible")
        assert field.get_attribute("aria-expanded") == "true"
        status = self.page.locator(
            f"#{field.get_attribute('id')} ~ [role=status], "
            f".combobox:has(#{field.get_attribute('id')}) + [role=status]"
        ).first
        assert "suggestion" in status.inner_text()
        for _ in range(downs):
            self.press("ArrowDown")
        for _ in range(ups):
            self.press("ArrowUp")
        active = field.get_attribute("aria-activedescendant")
        assert active, "aucune suggestion active après les flèches"
        chosen = self.page.locator(f"#{active}").inner_text()
        assert self.page.locator(f"#{active}").get_attribute("aria-selected") == "true"
        if shot:
            self.shot(shot)
            self.check(
                "suggestions ouvertes"
            )  # the open listbox and its active option, as axe sees them
            assert field.get_attribute("aria-activedescendant") == active
        self.press("Enter")
        assert field.input_value() == chosen, "Entrée n'a pas choisi la suggestion"
        assert field.get_attribute("aria-expanded") == "false" and listbox.is_hidden()
        assert self.focused(selector), "le focus a quitté le champ après le choix"
        return chosen

    def check(self, label: str) -> None:
        check_page(self.page, f"clavier : {label}", self.axe_script, (WIDTH, 360))
        self.page.set_viewport_size({"width": WIDTH, "height": 900})


def test_mentee_journey_with_the_keyboard_only(app, chromium, axe_script):
    with app.app_context():
        referent = make_referent(first_name="Sophie", last_name="Lamothe")
        mentee = make_mentee(referent, complete=False, first_name="Julie", last_name="Carrère")
        tutor = make_tutor(
            first_name="Marc",
            last_name="Soubiran",
            commune="32013",
            availability=MARDI_SOIR | SAMEDI_MATIN,
        )
        db.session.commit()
        email, tutor_id, referent_id = mentee.email, tutor.id, referent.id

    with LiveServer(app) as server:
        context = chromium.new_context(viewport={"width": WIDTH, "height": 900}, locale="fr-FR")
        page = context.new_page()
        kb = Keyboard(page, axe_script)

        # Log in. The first Tab reaches the skip link, which shows itself when focused.
        page.goto(server.url + "/connexion")
        kb.press("Tab")
        assert kb.focused("a.skip-link") and page.locator("a.skip-link").is_visible()
        kb.assert_focus_visible()
        kb.press("Enter")
        assert kb.focused("main#contenu"), "le lien d'évitement ne mène pas au contenu"
        kb.tab_to("input[name=email]")
        kb.assert_focus_visible()
        kb.type(email)
        kb.tab_to("input[name=password]")
        kb.type(PASSWORD)
        kb.enter_and_wait()
        assert page.url.endswith("/beneficiaire/"), page.url
        kb.check("accueil, profil à compléter")

        # The home page says what to do now: complete the profile.
        kb.tab_to("a.button--primary[href$='/beneficiaire/profil']")
        kb.assert_focus_visible()
        kb.enter_and_wait()
        assert page.url.endswith("/beneficiaire/profil")

        # A first try with mistakes: a commune typed without choosing, no free moment. The errors come
        # back above the form, which gets the focus; the input is kept; a link leads into each field.
        kb.tab_to("input[name=commune]")
        kb.type("Auc")
        kb.tab_to("button[type=submit]")
        kb.enter_and_wait()
        assert "Le formulaire contient des erreurs" in page.content()
        assert kb.focused(".error-summary"), "le résumé des erreurs n'a pas reçu le focus"
        assert page.locator("input[name=commune]").input_value() == "Auc", (
            "saisie perdue après l'erreur"
        )
        kb.check("profil avec erreurs")
        kb.tab_to(".error-summary a[href='#slots-0']")
        kb.assert_focus_visible()
        kb.press("Enter")
        assert kb.focused("#slots-0"), (
            "le lien du résumé ne mène pas à la grille des disponibilités"
        )

        # Commune and métier from the typing suggestions, with the arrows (Up and Down) and Enter.
        kb.tab_to("input[name=commune]", backwards=True)
        commune = kb.pick_suggestion("input[name=commune]", "Auch", downs=1)
        assert commune.startswith("Auch")
        metier = kb.pick_suggestion(
            "input[name=metier_1]", "aide-soign", downs=3, ups=1, shot="suggestions-metier"
        )
        assert metier.endswith("J1501"), metier
        # Shift+Tab goes back to the previous field.
        kb.press("Tab")
        assert kb.focused("input[name=metier_2]")
        kb.press("Shift+Tab")
        assert kb.focused("input[name=metier_1]")

        # The availability grid: Tab to each moment, Space to tick it.
        for slot in ("#slots-5", "#slots-15"):  # mardi soir, samedi matin
            kb.tab_to(slot)
            kb.assert_focus_visible()
            kb.press("Space")
            assert page.locator(slot).is_checked()
        # Radio buttons: Tab into the group, arrows to move.
        kb.tab_to("input[name=has_car]")
        kb.assert_focus_visible()
        kb.press("Space")
        kb.press("ArrowRight")
        assert page.locator("input[name=has_car][value=no]").is_checked()
        kb.tab_to("input[name=max_km]")
        kb.press("Control+A")
        kb.type("10")
        kb.tab_to("input[name=remote_ok]")
        kb.press("Space")
        kb.tab_to("input[name=obstacles][value=mobility]")
        kb.press("Space")
        kb.tab_to("button[type=submit]")
        kb.assert_focus_visible()
        kb.enter_and_wait()
        assert "Votre profil est enregistré" in page.content(), page.content()[:3000]
        kb.check("accueil après le profil")

        # Request a tutor.
        kb.tab_to("a[href$='/beneficiaire/demande']")
        kb.enter_and_wait()
        kb.tab_to("input[name=topics][value=cv]")
        kb.press("Space")
        kb.tab_to("input[name=meeting_modes][value=in_person]")
        kb.press("Space")
        kb.tab_to("textarea[name=message]")
        kb.type("Je voudrais devenir aide-soignante.")
        kb.tab_to("button[type=submit]")
        kb.enter_and_wait()
        assert "Votre demande est envoyée" in page.content()
        kb.check("accueil, demande envoyée")

        # The référent proposes Marc (their part is not this test's).
        with app.app_context():
            tutoring_request = db.session.scalars(
                select(TutoringRequest)
                .join(User, User.id == TutoringRequest.mentee_id)
                .where(User.email == email)
            ).one()
            pair_service.propose(
                tutoring_request, tutor_id, actor=db.session.get(User, referent_id)
            )
            db.session.commit()

        # The mentee sees the proposal on the home page and answers it.
        page.reload()
        assert "Un tuteur vous est proposé" in page.content()
        kb.tab_to("a.button--primary[href*='/beneficiaire/binome/']")
        kb.enter_and_wait()
        kb.check("proposition à accepter")
        kb.tab_to("input[name=answer-decision]")
        kb.assert_focus_visible()
        kb.press("Space")
        assert page.locator("input[value=accept]").is_checked()
        reason_block = page.locator(".decline-block")
        assert reason_block.is_hidden()
        kb.press("ArrowDown")  # "Je refuse": the reason is asked
        assert page.locator("input[value=decline]").is_checked() and reason_block.is_visible()
        kb.press("ArrowUp")  # back to "J'accepte"
        assert page.locator("input[value=accept]").is_checked() and reason_block.is_hidden()
        kb.tab_to("button[type=submit]")
        kb.assert_focus_visible()
        kb.enter_and_wait()
        assert "Votre réponse est enregistrée" in page.content()
        kb.check("proposition acceptée")
        kb.shot("proposition-acceptee")
        context.close()

    with app.app_context():
        pair = db.session.scalars(
            select(Pair).join(User, User.id == Pair.mentee_id).where(User.email == email)
        ).one()
        assert pair.mentee_answer == "accepted"
        profile = pair.mentee.mentee_profile
        assert profile.commune_code == "32013" and profile.metier_codes == ["J1501"]
        assert (
            profile.availability == MARDI_SOIR | SAMEDI_MATIN
            and not profile.has_car
            and profile.max_km == 10
        )
