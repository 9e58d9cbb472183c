"""The whole journey of a person without email, in a real headless Chromium (Playwright), at phone and
desktop widths: the référent creates her (no email), her profile, her postal address (a wrong
postal code refused), a demande; proposes a tutor; the tutor accepts; the référent records her
answer and confirms; her letters queue in « Courriers à envoyer »; the référent downloads them as
one PDF (read back with pdftotext: names, address, reference, next step, and nothing she may not
see), marks them sent, and finds them in her history."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import make_referent, make_tutor
from tests.tutorat.browser_support import LiveServer
from tests.tutorat.test_browser_journey import Person, _no_horizontal_scroll, chromium  # noqa: F401
from tests.tutorat.test_letters_sms import pdf_text
from tutorat.extensions import db
from tutorat.models import Letter, MessageStatus, OutboxEmail, Pair, User

pytestmark = pytest.mark.browser


def _submit(page, name: str) -> None:
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("width", [360, 1280])
def test_person_without_email_journey_in_chromium(app, chromium, width):  # noqa: F811
    with app.app_context():
        referent = make_referent(
            first_name="Sophie",
            last_name="Lamothe",
            organisation="MDS Auch",
            phone="05 62 00 00 00",
        )
        tutor = make_tutor(
            first_name="Marc",
            last_name="Soubiran",
            commune="32013",
            remote_ok=True,
            phone="06 11 22 33 44",
        )
        db.session.commit()
        emails = {"referent": referent.email, "tutor": tutor.email}

    with LiveServer(app) as server:
        r = Person(chromium, server.url, emails["referent"], width, "sans-courriel")
        # 1. The référent creates her, without email.
        page = r.go("/referent/beneficiaires/nouveau")
        page.locator("input[name=first_name]").fill("Paulette")
        page.locator("input[name=last_name]").fill("Dubarry")
        page.locator("input[name=consent]").check()
        _submit(page, "Créer le compte")
        assert "Le compte est créé" in page.content(), page.content()[:3000]
        with app.app_context():
            mentee_id = db.session.scalar(select(User.id).where(User.last_name == "Dubarry"))
        # 2. Her profile.
        page = r.go(f"/referent/beneficiaires/{mentee_id}/profil")
        page.locator("input[name=commune]").fill("Auch")
        page.locator("input[name=metier_1]").fill("aide-soignant")
        page.get_by_label("mardi soir").check()
        page.get_by_label("samedi matin").check()
        page.locator("input[name=has_car][value=no]").check()
        page.locator("input[name=max_km]").fill("10")
        page.locator("input[name=remote_ok]").check()
        page.locator("form.form button[type=submit]").last.click()
        page.wait_for_load_state()
        assert "/profil" not in page.url, page.content()[:3000]
        # Without an address, nobody can write to her: the référent is told, on her page.
        page = r.go(f"/referent/beneficiaires/{mentee_id}")
        assert "Adresse manquante" in page.content()
        # 3. Her postal address: a postal code that is not Auch's is refused, in French.
        page.get_by_role("link", name=re.compile("Compléter l'adresse")).first.click()
        page.wait_for_load_state()
        page.get_by_label(re.compile("^Adresse postale")).fill("4 chemin du Moulin")
        page.get_by_label(re.compile("^Code postal")).fill("32500")
        page.get_by_label("Par courrier postal").check()
        _submit(page, "Enregistrer les coordonnées")
        assert "n'est pas celui de Auch" in page.content().replace("&#39;", "'")
        r.shot("coordonnees-erreur")
        page.get_by_label(re.compile("^Code postal")).fill("32000")
        _submit(page, "Enregistrer les coordonnées")
        assert "sont enregistrées" in page.content()
        assert "Adresse manquante" not in r.go(f"/referent/beneficiaires/{mentee_id}").content()
        # 4. A demande made for her, then a tutor proposed from the ranking.
        page = r.go(f"/referent/beneficiaires/{mentee_id}/demande")
        page.get_by_label("Faire ou refaire son CV").check()
        page.get_by_label("En personne").check()
        page.locator("textarea[name=message]").fill("Trouver un emploi d'aide-soignante.")
        page.locator("form.form button[type=submit]").last.click()
        page.wait_for_load_state()
        assert "/referent/demandes/" in page.url, page.content()[:3000]
        _submit(page, "Proposer ce tuteur : Marc Soubiran")
        assert "La proposition est envoyée" in page.content()
        with app.app_context():
            pair_id = db.session.scalar(select(Pair.id).where(Pair.mentee_id == mentee_id))

        # 5. The tutor accepts, in his space.
        t = Person(chromium, server.url, emails["tutor"], width, "sans-courriel-tuteur")
        page = t.go(f"/tuteur/binome/{pair_id}")
        assert "Paulette" in page.content() and "Dubarry" not in page.content()
        page.get_by_label("J'accepte").check()
        _submit(page, "Envoyer ma réponse")
        assert "Votre accord est enregistré" in page.content()

        # 6. The référent records her answer (given on the phone) and confirms the binôme.
        page = r.go(f"/referent/binomes/{pair_id}")
        page.locator("input[name='answer-decision'][value=accept]").check()
        _submit(page, "Enregistrer sa réponse")
        _submit(page, "Confirmer le binôme")
        assert "Le binôme est confirmé" in page.content()

        # 7. Her letters wait in « Courriers à envoyer »: no email was written to her.
        with app.app_context():
            queued = db.session.scalars(
                select(Letter).where(Letter.recipient_id == mentee_id).order_by(Letter.id)
            ).all()
            assert [x.kind for x in queued] == ["proposal_mentee", "pair_confirmed_mentee"]
            assert {x.status for x in queued} == {MessageStatus.PENDING}
            references = [x.reference for x in queued]
            recipients = set(db.session.scalars(select(OutboxEmail.recipient)))
            assert recipients <= {emails["tutor"], emails["referent"]}, recipients
        page = r.go("/referent/")
        page.get_by_role("link", name="Courriers").first.click()
        page.wait_for_load_state()
        content = page.content()
        assert "Courriers à envoyer" in content and all(x in content for x in references)
        assert "Adresse manquante" not in content
        assert _no_horizontal_scroll(page)
        r.shot("courriers")

        # 8. One PDF of the pending letters: one sheet each, what she may read and nothing else.
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("Télécharger les 2 courrier")).click()
        text = pdf_text(Path(download.value.path()).read_bytes())
        sheets = [s for s in text.split("\f") if s.strip()]
        assert len(sheets) == 2
        for sheet, reference in zip(sheets, references, strict=True):
            assert "Paulette Dubarry" in sheet and "4 chemin du Moulin" in sheet
            assert "32000 AUCH" in sheet and reference in sheet
            assert "Sophie Lamothe" in sheet and "05 62 00 00 00" in sheet  # whom to call
            assert "Trouver un emploi" not in sheet  # her demande's words: not printed back
        proposal, confirmed = sheets
        assert "Un tuteur vous est proposé" in proposal and "Marc" in proposal
        # The next step, for someone who cannot log in: call the référent.
        assert "appelez votre référent" in " ".join(proposal.split())
        # Before the binôme is confirmed, the tutor is a first name only.
        assert "Soubiran" not in proposal and "06 11 22 33 44" not in proposal
        assert "Votre binôme commence" in confirmed
        assert emails["tutor"] not in proposal

        # 9. Marked as sent: out of the list, in her history.
        _submit(page, re.compile("Marquer ces 2 courrier"))
        assert "2 courrier(s) marqué(s) comme envoyé(s)" in page.content()
        assert "Aucun courrier à envoyer" in page.content()
        page = r.go(f"/referent/beneficiaires/{mentee_id}")
        assert all(x in page.content() for x in references) and "envoyé le" in page.content()
        assert _no_horizontal_scroll(page)
        r.context.close()
        t.context.close()
    with app.app_context():
        assert {x.status for x in db.session.scalars(select(Letter))} == {MessageStatus.SENT}
