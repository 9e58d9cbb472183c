"""Importing beneficiaries in a real Chromium: upload a file, read the preview, confirm; at phone and
desktop widths, without horizontal scrolling."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD, make_mentee, make_referent
from tests.tutorat.browser_support import ARTIFACTS, CHROMIUM_ARGS, LiveServer, require_chromium
from tutorat.extensions import db
from tutorat.models import MenteeProfile

pytestmark = pytest.mark.browser

# As Excel saves "CSV (séparateur : point-virgule)" on a French Windows: Windows-1252, CRLF.
FILE = (
    "Nom;Prénom;Commune;Date de naissance;Courriel;Téléphone\r\n"
    "Lefèvre;Hélène;Auch;12/03/1985;helene@exemple.fr;655443322\r\n"
    "Dupuy;Karim;Condom;24/05/1990;;07 98 76 54 32\r\n"
    "Sarrat;Josiane;Fleurence;02/11/2031;;\r\n"
    "Déjà;Suivie;Auch;;deja@exemple.fr;\r\n"
).encode("cp1252")


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


@pytest.mark.parametrize("width", [360, 1280])
def test_upload_preview_confirm_in_chromium(app, chromium, tmp_path, width):
    with app.app_context():
        referent = make_referent(email=f"ref.import.{width}@exemple.fr")
        make_mentee(referent, email="deja@exemple.fr")
        db.session.commit()
        email, referent_id = referent.email, referent.id
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    with LiveServer(app) as server:
        context = chromium.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
        page = context.new_page()
        page.goto(f"{server.url}/connexion")
        page.get_by_label("Adresse électronique").fill(email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state()
        page.goto(f"{server.url}/referent/beneficiaires")
        page.get_by_role("link", name="Importer depuis un tableur").click()
        page.wait_for_load_state()
        assert _no_horizontal_scroll(page), f"défilement horizontal à {width} px (envoi)"
        page.get_by_label("Fichier CSV").set_input_files(str(path))
        page.get_by_role("button", name="Envoyer et voir l'aperçu").click()
        page.wait_for_load_state()
        text = page.inner_text("main")
        assert "Rien n'est encore importé" in text
        assert "Windows-1252" in text
        assert "date dans le futur" in text
        assert "Lefèvre" in text and "Hélène" in text
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"import-apercu-{width}.png"), full_page=True)
        assert _no_horizontal_scroll(page), f"défilement horizontal à {width} px (aperçu)"
        with app.app_context():
            assert (
                db.session.scalar(
                    select(func.count())
                    .select_from(MenteeProfile)
                    .where(MenteeProfile.referent_id == referent_id)
                )
                == 1
            )
        page.get_by_role("button", name="Importer 2 personnes").click()
        page.wait_for_load_state()
        done = page.inner_text("main")
        assert "Import terminé : 2 personnes créées" in done
        assert "1 invitation envoyée par courriel" in done
        page.goto(f"{server.url}/referent/beneficiaires?q=karim")
        listing = page.inner_text("main")
        assert "Dupuy" in listing and "Lefèvre" not in listing
        assert _no_horizontal_scroll(page), f"défilement horizontal à {width} px (liste)"
        context.close()
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(MenteeProfile)
                .where(MenteeProfile.referent_id == referent_id)
            )
            == 3
        )
