"""axe-core on every page each role can reach, and on the forms in their error state, in Debian's Chromium.

For each role we build a realistic world (a demande waiting for a proposal, a proposal to answer, an active
binôme with meetings, an ended one…), log in through the login form, then crawl every same-origin link from
the role's home (GET only: never a logout nor any POST action), and submit each data form of the crawled
pages empty, plus a few forms with wrong values (unknown commune, future meeting date…). On each page axe-core
(bundled by axe-playwright-python) runs the WCAG 2.0 / 2.1 A and AA rules; the first violation fails the
test, naming the page and the rule. At 360 px every page must fit without horizontal scrolling.

Screenshots of the key pages go to test-artifacts/ (printed once). With TUTORAT_UPDATE_SCREENSHOTS=1, the
few shown in the README are also written to docs/screenshots/.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from tests.factories import (
    MARDI_SOIR,
    PASSWORD,
    SAMEDI_MATIN,
    make_admin,
    make_mentee,
    make_referent,
    make_tutor,
)
from tests.tutorat.browser_support import ARTIFACTS, CHROMIUM_ARGS, LiveServer, require_chromium
from tutorat.extensions import db
from tutorat.models import Role
from tutorat.services import accounts
from tutorat.services import meetings as meeting_service
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service

pytestmark = [pytest.mark.browser]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
MAX_PAGES = 90  # per role: a bound on the crawl, far above what any role can reach today
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Links never followed: leaving the session, JSON look-ups, files to download.
SKIP_PATH = re.compile(r"^/(deconnexion|static/|api/)|/export")
MERCREDI_MATIN = 1 << 6
REPORT_PATH = "/signaler-un-probleme"
MISSING_PAGE = "/page-qui-n-existe-pas"
PUBLIC_PAGES = {
    "",
    "a-propos",
    "accessibilite",
    "donnees-personnelles",
    "algorithme",
    "signaler-un-probleme",
    "connexion",
    "mot-de-passe-oublie",
    "mot-de-passe",
    "page-qui-n-existe-pas",
    "devenir-tuteur",
    "charte-des-tuteurs",
}
# (family of pages, kind of page) already checked at every width, for all the tests of this module.
WIDE_DONE: set[tuple[str, str]] = set()
WIDTHS = (360, 1280)


# ---------------------------------------------------------------------------------------------- the world


def build_world(app) -> dict[str, str]:
    """Everyone's situation at once, through the services (as the app would have made it)."""
    now = datetime.now(UTC)
    with app.app_context():
        referent = make_referent(
            first_name="Sophie", last_name="Lamothe", organisation="Maison des Solidarités d'Auch"
        )
        admin = make_admin(first_name="Claire", last_name="Dupouy")
        marc = make_tutor(
            first_name="Marc",
            last_name="Soubiran",
            capacity=3,
            availability=MARDI_SOIR | SAMEDI_MATIN | MERCREDI_MATIN,
        )
        marc.tutor_profile.experience_note = (
            "Une formation courte et un employeur qui m'a fait confiance."
        )
        make_tutor(
            first_name="Nadia",
            last_name="Benali",
            commune="32160",
            metier="J1301",
            capacity=2,
            remote_ok=True,
            availability=MERCREDI_MATIN | SAMEDI_MATIN,
        )
        sandrine = make_tutor(
            first_name="Sandrine",
            last_name="Dupuy",
            commune="32013",
            metier="J1501",
            remote_ok=True,
            availability=MERCREDI_MATIN,
        )
        make_tutor(first_name="Hugo", last_name="Lacoste", validated=False)
        julie = make_mentee(referent, first_name="Julie", last_name="Carrère")
        karim = make_mentee(referent, first_name="Karim", last_name="Haddad", remote_ok=True)
        lea = make_mentee(referent, first_name="Léa", last_name="Fontan")
        paul = make_mentee(
            referent,
            first_name="Paul",
            last_name="Castéra",
            commune="32160",
            availability=MERCREDI_MATIN,
            remote_ok=True,
        )
        gerard = make_mentee(
            referent, complete=False, email=None, first_name="Gérard", last_name="Abadie"
        )
        db.session.flush()

        def tutoring_request(mentee, actor=None):
            out = request_service.open_request(
                mentee,
                actor=actor or mentee,
                topics=["cv", "job_interview"],
                meeting_modes=["in_person"],
                message="Je voudrais devenir aide-soignante et préparer mes entretiens.",
                constraints="Je récupère mes enfants à l'école à 16 h 30.",
            )
            db.session.flush()
            return out

        # Léa: a binôme that ended with a job (ended first: Marc rests afterwards, so move his rest away).
        pair_lea = pair_service.propose(tutoring_request(lea), marc.id, actor=referent)
        pair_service.answer(pair_lea, side="tutor", accept=True, actor=marc)
        pair_service.answer(pair_lea, side="mentee", accept=True, actor=lea)
        pair_service.confirm(pair_lea, actor=referent)
        pair_lea.proposed_at = now - timedelta(days=120)
        db.session.flush()
        meeting_service.log_meeting(
            pair_lea,
            actor=marc,
            day=(now - timedelta(days=100)).date(),
            duration_minutes=60,
            mode="in_person",
            place="Médiathèque d'Auch",
            topics=["cv"],
            note="CV refait ensemble.",
        )
        pair_service.end(
            pair_lea,
            actor=referent,
            outcomes=["job", "left_rsa"],
            contract="fixed_term",
            detail="CDD de six mois dans un EHPAD.",
        )
        marc.tutor_profile.rest_until = None
        # Karim: a declined proposal (Sandrine: a declined tutor is never proposed again for the
        # same demande), then an active binôme with Marc and two meetings.
        request_karim = tutoring_request(karim, actor=referent)
        declined = pair_service.propose(request_karim, sandrine.id, actor=referent)
        pair_service.answer(declined, side="mentee", accept=False, actor=karim, reason="too_far")
        db.session.flush()
        pair_karim = pair_service.propose(request_karim, marc.id, actor=referent)
        pair_service.answer(pair_karim, side="tutor", accept=True, actor=marc)
        pair_service.answer(pair_karim, side="mentee", accept=True, actor=karim)
        pair_service.confirm(pair_karim, actor=referent)
        pair_karim.proposed_at = now - timedelta(days=40)
        db.session.flush()
        first = meeting_service.log_meeting(
            pair_karim,
            actor=marc,
            day=(now - timedelta(days=30)).date(),
            duration_minutes=45,
            mode="in_person",
            place="Médiathèque d'Auch",
            topics=["cv", "self_confidence"],
            note="CV relu, prochain rendez-vous fixé.",
        )
        meeting_service.confirm_meeting(first, pair_karim, actor=karim, confirmed=True)
        meeting_service.log_meeting(
            pair_karim,
            actor=marc,
            day=(now - timedelta(days=3)).date(),
            duration_minutes=30,
            mode="phone",
            topics=["job_interview"],
        )
        # Julie: a proposal waiting for both answers.
        pair_julie = pair_service.propose(tutoring_request(julie), marc.id, actor=referent)
        # Paul: a demande waiting for a proposal for 20 days (ranked candidates, and an alert on the dashboard).
        old_request = tutoring_request(paul)
        old_request.created_at = old_request.updated_at = now - timedelta(days=20)
        # An account invited by the admin, who has not chosen a password yet.
        invited = accounts.create_user(
            role=Role.REFERENT,
            email="nina.invitee@test.example.org",
            first_name="Nina",
            last_name="Invitée",
            created_by=admin,
        )
        db.session.commit()
        from tutorat.services.accounts import password_token

        return {
            "mentee": julie.email,
            "mentee-binome": karim.email,
            "tutor": marc.email,
            "referent": referent.email,
            "admin": admin.email,
            "invitation": f"/mot-de-passe/{password_token(invited)}",
            "active_pair": str(pair_karim.id),
            "proposal": f"/beneficiaire/binome/{pair_julie.id}",
            "no_email_mentee": str(gerard.id),
        }


# ------------------------------------------------------------------------------------------------ the crawl


def axe_violations(page, axe_script: str) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_script)
    return page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)["violations"]


def check_page(page, label: str, axe_script: str, widths: tuple[int, ...]) -> None:
    """axe-core WCAG A/AA rules on the page as shown at each width; at phone width, no horizontal scroll."""
    # What is folded away (<details>: the detail of a score) is checked too.
    page.evaluate(
        "() => document.querySelectorAll('details:not([open])').forEach(d => { d.open = true; })"
    )
    for width in widths:
        if page.viewport_size["width"] != width:
            page.set_viewport_size({"width": width, "height": 900})
        violations = axe_violations(page, axe_script)
        if violations:
            lines = [
                f"axe-core : {len(violations)} règle(s) WCAG violée(s) sur {label} ({page.url}, {width} px)"
            ]
            for v in violations:
                lines.append(
                    f"- règle « {v['id']} » ({v['impact']}) : {v['help']} — {v['helpUrl']}"
                )
                for node in v["nodes"][:3]:
                    lines.append(
                        f"    {node['target']} : {node['failureSummary'].splitlines()[-1].strip()}"
                    )
                    lines.append(f"      {node['html'][:200]}")
            pytest.fail("\n".join(lines), pytrace=False)
        if width <= 400:
            # Reflow (WCAG 1.4.10) at the phone width, and at 320 px, the width the criterion names.
            for narrow in (width, 320):
                page.set_viewport_size({"width": narrow, "height": 900})
                sizes = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                if sizes[0] > sizes[1]:
                    pytest.fail(
                        f"défilement horizontal sur {label} ({page.url}) à {narrow} px : la page fait "
                        f"{sizes[0]} px de large",
                        pytrace=False,
                    )


def same_origin_links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
    out = []
    for href in hrefs:
        url, _fragment = urldefrag(href)
        if not url.startswith(base + "/"):
            continue  # other sites, mailto:, tel:
        if SKIP_PATH.search(urlsplit(url).path):
            continue
        if urlsplit(url).path == REPORT_PATH:
            url = (
                base + REPORT_PATH
            )  # each page links to it with its own address: one page, not one per link
        out.append(url)
    return out


# Empty every field of a form (text, choices, lists) so that submitting it shows its errors.
EMPTY_FORM_JS = """form => {
  for (const el of form.elements) {
    if (el.type === 'hidden' || el.type === 'submit' || el.type === 'button') continue;
    if (el.type === 'checkbox' || el.type === 'radio') el.checked = false;
    else if (el.tagName === 'SELECT') el.selectedIndex = 0;
    else el.value = '';
  }
}"""
# The forms worth an error-state check: the POST forms with something to fill in (not the one-button
# actions such as "Confirmer le binôme", "Se déconnecter", which change data and have nothing to get wrong).
DATA_FORMS_JS = """() => Array.from(document.querySelectorAll('form[method=post]')).map((f, i) => ({
  index: i, action: f.getAttribute('action'),
  fields: Array.from(f.elements).filter(e => !['hidden', 'submit', 'button'].includes(e.type)
                                             && e.tagName !== 'BUTTON' && e.tagName !== 'FIELDSET').length,
}))"""


def submit(page, form) -> None:
    with page.expect_navigation() as navigation:
        form.locator("button[type=submit]").last.click()
    response = navigation.value
    if response is not None and response.status >= 500:
        pytest.fail(
            f"erreur {response.status} après l'envoi du formulaire de {page.url}", pytrace=False
        )


def _kind(path: str) -> str:
    """The page's kind: /referent/binomes/12 and /referent/binomes/13 show the same forms."""
    return re.sub(r"/\d+", "/N", re.sub(r"/mot-de-passe/[^/]+$", "/mot-de-passe/TOKEN", path))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Crawl:
    page: object
    base: str
    role: str
    axe_script: str
    widths: tuple[int, ...]
    shots: dict[str, str]
    pages: list[str] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)
    stop: threading.Event | None = None

    def check(self, label: str, kind: str) -> None:
        """Every page at phone width; at the other widths, one page of each kind (same template, same state).

        Pages that differ between roles only by the menu (public pages, "Mon compte") are checked at the
        other widths once for all roles; each role's menu is checked on the role's own pages.
        """
        path = urlsplit(self.page.url).path
        family = (
            "public"
            if path.split("/")[1] in PUBLIC_PAGES
            else "account"
            if path.startswith("/compte/")
            else self.role.split("-")[0]
        )
        widths = self.widths if (family, kind) not in WIDE_DONE else self.widths[:1]
        WIDE_DONE.add((family, kind))
        check_page(self.page, f"{self.role} : {label}", self.axe_script, widths)
        if self.page.viewport_size["width"] != self.widths[0]:
            self.page.set_viewport_size({"width": self.widths[0], "height": 900})

    def run(self, start: list[str]) -> None:
        pending, seen, forms_done = list(start), set(), set()
        page = self.page
        while pending:
            if self.stop is not None and self.stop.is_set():
                return
            url = pending.pop(0)
            if url in seen:
                continue
            seen.add(url)
            assert len(self.pages) < MAX_PAGES, (
                f"plus de {MAX_PAGES} pages pour {self.role} : le parcours boucle ?"
            )
            try:
                response = page.goto(url)
            except Exception as exc:  # a file download (CSV export) is not a page
                if "Download is starting" in str(exc):
                    continue
                raise
            if response is not None and "text/html" not in response.headers.get("content-type", ""):
                continue  # JSON (the export of one's data) is not a page either
            # A link of the app that leads to an error is a fault too (the 404 we ask for is the only one).
            if response is not None and response.status >= 400 and not url.endswith(MISSING_PAGE):
                pytest.fail(f"{self.role} : erreur {response.status} sur {url}", pytrace=False)
            if page.url != url and page.url in seen:
                continue  # a redirect to a page already checked (/espace → the role's home)
            seen.add(page.url)
            path = _path(page.url)
            self.check(path, _kind(path))
            self.pages.append(path)
            self.shot(self.shots.pop(_kind(path), None))
            links = same_origin_links(page, self.base)
            # The error state of each data form of the page, once per kind of page and form.
            forms = [f for f in page.evaluate(DATA_FORMS_JS) if f["fields"]]
            for n, form in enumerate(forms):
                key = (_kind(urlsplit(page.url).path), _kind(form["action"] or ""))
                if key in forms_done:
                    continue
                forms_done.add(key)
                if n:
                    page.goto(url)
                locator = page.locator("form[method=post]").nth(form["index"])
                locator.evaluate(EMPTY_FORM_JS)
                submit(page, locator)
                self.check(f"formulaire envoyé vide depuis {path}", f"{key} vide")
                self.forms.append(f"{path} (vide)")
            pending.extend(u for u in links if u not in seen)

    def bad_values(self, path: str, fill, expected: str, name: str | None = None) -> None:
        """Submit the form of `path` with wrong values (`fill`), check the message and the page."""
        self.page.goto(self.base + path)
        form = fill(self.page)
        submit(self.page, form)
        assert expected in self.page.content(), f"{path} : message « {expected} » absent"
        self.check(f"formulaire de {path} avec des valeurs fausses", f"{path} {expected}")
        self.forms.append(f"{path} ({expected[:40]}…)")
        self.shot(name)

    def shot(self, name: str | None) -> None:
        """A full-page screenshot at each width in test-artifacts/; the README's ones in docs/screenshots/."""
        if not name:
            return
        page = self.page
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for width in self.widths:
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(
                path=str(ARTIFACTS / f"a11y-{self.role}-{width}-{name}.png"), full_page=True
            )
            device = "telephone" if width < 600 else "ordinateur"
            if (
                os.environ.get("TUTORAT_UPDATE_SCREENSHOTS")
                and (self.role, device, name) in README_SHOTS
            ):
                DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.set_viewport_size({"width": width, "height": 760 if width < 600 else 800})
                start = README_SHOTS[(self.role, device, name)]
                if start:  # the part of the page worth showing at the top of the picture
                    page.locator(start).first.evaluate("el => el.scrollIntoView({block: 'start'})")
                page.screenshot(path=str(DOCS_SCREENSHOTS / f"{name}-{device}.png"))
                page.evaluate("window.scrollTo(0, 0)")
        page.set_viewport_size({"width": self.widths[0], "height": 900})


# The screenshots shown in the README (role, device, page): where the picture starts (a selector).
# Refreshed with TUTORAT_UPDATE_SCREENSHOTS=1.
README_SHOTS = {
    ("mentee", "telephone", "beneficiaire-accueil"): None,
    ("mentee", "telephone", "beneficiaire-profil"): "h2:has(+ fieldset #slots-0)",
    ("referent", "ordinateur", "referent-demande"): "#candidats",
}


# ------------------------------------------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def axe_script():
    return load_axe_script()


def load_axe_script() -> str:
    """axe-core's source, as bundled by axe-playwright-python (a dev dependency)."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:  # pragma: no cover
        message = "axe-playwright-python absent : pip install -e '.[dev]'"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (sous CI=true, rien n'est sauté)")
        pytest.skip(message)
    return Axe().axe_script


def login(page, base: str, email: str) -> None:
    page.goto(f"{base}/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    assert "/connexion" not in page.url, f"connexion refusée pour {email}"


def _field(page, name: str):
    return page.locator(f"[name='{name}']")


def bad_profile(page):
    _field(page, "commune").fill("Paris")
    _field(page, "metier_1").fill("xqzw")
    return page.locator("form.form")


def bad_meeting(page):
    _field(page, "date").fill((date.today() + timedelta(days=10)).isoformat())
    _field(page, "duration").fill("0")
    return page.locator("form.form")


def bad_person(page):
    _field(page, "email").fill("pas-une-adresse")
    _field(page, "phone").fill("12")
    return page.locator("form.form")


def wrong_password(page):
    _field(page, "email").fill("personne@test.example.org")
    _field(page, "password").fill("pas le bon mot de passe")
    return page.locator("form.form")


def different_passwords(page):
    _field(page, "password").fill(PASSWORD)
    _field(page, "confirm").fill(PASSWORD + "!")
    return page.locator("form.form")


def period_backwards(page):
    """The indicators' period (a GET form): an end before the start."""
    _field(page, "du").fill("2026-06-30")
    _field(page, "au").fill("2026-01-01")
    return page.locator("form").filter(has=page.locator("[name='du']"))


def bad_tutor_profile(page):
    _field(page, "commune").fill("Paris")
    _field(page, "metier").fill("xqzw")
    return page.locator("form.form")


def end_job_without_contract(page):
    page.locator("input[name='end-outcomes'][value='job']").check()
    page.locator("input[name='end-confirm']").check()
    return page.locator("form").filter(has=page.locator("[name='end-outcomes']"))


def decline_without_reason(page):
    page.locator("input[name='answer-decision'][value='decline']").check()
    page.locator("select[name='answer-reason']").select_option("other")
    return page.locator("form.form").filter(has=page.locator("[name='answer-decision']"))


HOMES = {
    "anonymous": "/",
    "mentee": "/beneficiaire/",
    "mentee-binome": "/beneficiaire/",
    "tutor": "/tuteur/",
    "referent": "/referent/",
    "admin": "/admin/",
}
# Key pages to look at (by kind of page: /N stands for any number), saved under test-artifacts/.
SHOTS = {
    "anonymous": {"/": "accueil", "/connexion": "connexion", "/accessibilite": "accessibilite"},
    "mentee": {
        "/beneficiaire/": "beneficiaire-accueil",
        "/beneficiaire/profil": "beneficiaire-profil",
        "/beneficiaire/binome/N": "beneficiaire-proposition",
    },
    "mentee-binome": {
        "/beneficiaire/": "beneficiaire-accueil-binome",
        "/beneficiaire/binome/N": "beneficiaire-binome",
    },
    "tutor": {"/tuteur/": "tuteur-accueil", "/tuteur/binome/N/rencontre": "tuteur-rencontre"},
    "referent": {
        "/referent/": "referent-tableau-de-bord",
        "/referent/demandes/N": "referent-demande",
        "/referent/binomes/N": "referent-binome",
    },
    "admin": {"/admin/": "admin-accueil", "/indicateurs/": "admin-indicateurs"},
}


# Longest crawls first, so that the workers finish together.
ROLES = ("referent", "tutor", "admin", "mentee", "mentee-binome", "anonymous")
WORKERS = int(os.environ.get("TUTORAT_BROWSER_WORKERS", "3"))


def crawl_role(
    browser, base: str, world: dict[str, str], role: str, axe_script: str, stop
) -> Crawl:
    """Log in as `role`, crawl from the role's home, then the forms with wrong values."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, locale="fr-FR")
    page = context.new_page()
    crawl = Crawl(page, base, role, axe_script, WIDTHS, dict(SHOTS[role]), stop=stop)
    if role == "anonymous":
        crawl.run(
            [
                base + p
                for p in (
                    "/",
                    "/connexion",
                    "/mot-de-passe-oublie",
                    world["invitation"],
                    MISSING_PAGE,
                    f"{REPORT_PATH}?page=/a-propos",
                )
            ]
        )
    else:
        login(page, base, world[role])
        crawl.run([base + HOMES[role]])
    pair = world["active_pair"]
    if role == "anonymous":
        crawl.bad_values("/connexion", wrong_password, "mot de passe incorrect")
        crawl.bad_values(world["invitation"], different_passwords, "ne sont pas identiques")
    elif role == "mentee":
        crawl.bad_values(
            "/beneficiaire/profil", bad_profile, "Commune inconnue", "beneficiaire-profil-erreurs"
        )
        crawl.bad_values(world["proposal"], decline_without_reason, "Précisez la raison du refus")
    elif role == "tutor":
        crawl.bad_values(
            f"/tuteur/binome/{pair}/rencontre",
            bad_meeting,
            "ne peut pas être dans le futur",
            "tuteur-rencontre-erreurs",
        )
        crawl.bad_values("/tuteur/profil", bad_tutor_profile, "Commune inconnue")
    elif role == "referent":
        crawl.bad_values(
            "/referent/beneficiaires/nouveau", bad_person, "Adresse électronique invalide"
        )
        crawl.bad_values(
            f"/referent/beneficiaires/{world['no_email_mentee']}/profil",
            bad_profile,
            "Commune inconnue",
        )
        crawl.bad_values(
            f"/referent/binomes/{pair}/terminer",
            end_job_without_contract,
            "indiquez le type de contrat",
        )
    elif role == "admin":
        crawl.bad_values("/admin/comptes/nouveau", bad_person, "Adresse électronique invalide")
    if role in ("referent", "admin"):
        crawl.bad_values("/indicateurs/", period_backwards, "field-error")
    context.close()
    return crawl


def test_every_page_of_every_role_passes_axe(app, axe_script):
    """All roles in one world, crawled by a few browsers at once (axe-core is slow: this halves the time)."""
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    world = build_world(app)
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for role in ROLES:
        todo.put(role)
    stop = threading.Event()
    started = time.perf_counter()

    def worker() -> list[tuple[Crawl, float]]:
        # One Playwright per thread: its synchronous API must not be shared between threads.
        done = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            try:
                while not stop.is_set():
                    try:
                        role = todo.get_nowait()
                    except queue.Empty:
                        break
                    t0 = time.perf_counter()
                    try:
                        done.append(
                            (
                                crawl_role(browser, server.url, world, role, axe_script, stop),
                                time.perf_counter() - t0,
                            )
                        )
                    except BaseException:
                        stop.set()  # the others stop at their next page: the first failure is the one shown
                        raise
            finally:
                browser.close()
        return done

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
    with LiveServer(app) as server, ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(worker) for _ in range(min(WORKERS, len(ROLES)))]
        results = [item for f in futures for item in f.result()]

    print(
        f"\naxe-core {axe_version(axe_script)}, règles {', '.join(WCAG_TAGS)} : 0 violation ; "
        f"{sum(len(c.pages) for c, _ in results)} pages et {sum(len(c.forms) for c, _ in results)} "
        f"formulaires en erreur, à {' et '.join(map(str, WIDTHS))} px, en {time.perf_counter() - started:.0f} s "
        f"({WORKERS} navigateurs). Captures d'écran : {ARTIFACTS}"
    )
    for crawl, seconds in sorted(results, key=lambda r: ROLES.index(r[0].role)):
        print(
            f"{crawl.role} : {len(crawl.pages)} pages, {len(crawl.forms)} formulaires en erreur ({seconds:.0f} s)"
        )
        for p in crawl.pages:
            print("  page", p)
        for f in crawl.forms:
            print("  formulaire", f)


def axe_version(script: str) -> str:
    match = re.search(r"axe v([\d.]+)", script)
    return match.group(1) if match else "?"


def test_the_check_catches_what_it_should(axe_script):
    """The harness itself: a page with known faults must fail, naming the rules (else a 0 would prove nothing)."""
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    faulty = (
        "<html><head><title>Page fautive</title></head><body><main><h1>Essai</h1>"
        "<input type=text><p style='color:#bbb'>Texte trop pâle</p>"
        "<div style='width:900px'>Trop large</div></main></body></html>"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 360, "height": 900})
        page.set_content(faulty)
        with pytest.raises(pytest.fail.Exception) as failure:
            check_page(page, "page fautive", axe_script, (360,))
        for rule in ("html-has-lang", "label", "color-contrast"):
            assert f"« {rule} »" in str(failure.value)
        page.set_content(
            faulty.replace("<html>", "<html lang=fr>")
            .replace("<input type=text>", "")
            .replace("#bbb", "#333")
        )
        with pytest.raises(pytest.fail.Exception, match="défilement horizontal"):
            check_page(page, "page trop large", axe_script, (360,))
        browser.close()
