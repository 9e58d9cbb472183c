"""The demo référent's dashboard in Chromium: "À faire" in the first screen at 1280 px, no
horizontal scroll at 360 px, search by name with the keyboard."""

from __future__ import annotations

import pytest

from tests.tutorat.browser_support import CHROMIUM_ARGS, LiveServer, require_chromium

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Demo-Armagnac-2026"


@pytest.fixture(scope="module")
def chromium():
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _login(page, base: str) -> None:
    page.goto(f"{base}/connexion")
    page.get_by_label("Adresse électronique").fill("referent@example.org")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    assert "/connexion" not in page.url


def test_demo_dashboard_to_do_fits_the_first_screen(app, runner, chromium):
    for command in (["seed-demo"], ["run-reminders"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
    with LiveServer(app) as server:
        # A laptop's first screen: 1280 × 800.
        context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
        page = context.new_page()
        _login(page, server.url)
        page.goto(f"{server.url}/referent/")
        rows = page.locator("table.table--todo tbody tr")
        assert rows.count() >= 3  # the demo has things to do
        box = page.locator("section[aria-labelledby='a-faire-title']").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 800, box
        # The most urgent kinds first: problems reported, then binômes to confirm, then reminders.
        actions = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
        kinds = [
            0 if "signalé" in a or "Arrêt demandé" in a else 1 if "Confirmer" in a else 2
            for a in actions
        ]
        assert kinds == sorted(kinds), actions
        # Search by name, with the keyboard only.
        name = page.locator("table.table--todo tbody tr td:nth-child(2)").first.inner_text()
        first_name = name.split()[0]
        page.get_by_label("Nom ou prénom").focus()
        page.keyboard.type(first_name)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert f"nom={first_name}" in page.url
        assert f"« {first_name} »" in page.content()
        context.close()

        context = chromium.new_context(viewport={"width": 360, "height": 800}, locale="fr-FR")
        page = context.new_page()
        _login(page, server.url)
        for path in ("/referent/", "/referent/?statut=a-faire", "/referent/?statut=recents"):
            page.goto(server.url + path)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (
                f"défilement horizontal sur {path} à 360 px"
            )
        context.close()
