"""The explanation one can hand over (CRPA R311-3-1-2): names, number, date, référent, each
criterion in plain words, link addresses printed; as a PDF, checked through pdftotext, with what
the viewer may see only, and no heading alone at the bottom of a page."""

from __future__ import annotations

import html

from tests.conftest import Browser
from tests.factories import PASSWORD, make_mentee, make_referent, make_tutor
from tests.tutorat.test_letters_sms import pdf_text
from tutorat.extensions import db
from tutorat.models import Pair
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service

HEADINGS = (
    "Comment cette proposition a été préparée",
    "1. La part de l'algorithme dans la décision",
    "2. Les données utilisées et leur source",
    "3. Les paramètres appliqués à cette proposition",
    "Ce que chaque critère a compté, en mots simples",
    "Le détail en chiffres",
    "Les raisons données",
    "4. Les opérations effectuées",
)


def _world(app):
    with app.app_context():
        referent = make_referent(
            first_name="Sophie", last_name="Lamothe", organisation="Maison des Solidarités d'Auch"
        )
        mentee = make_mentee(referent, first_name="Julie", last_name="Carrère")
        profile = mentee.mentee_profile
        # She shares neither her commune nor her difficulties with the tutor.
        profile.share_commune = False
        profile.share_obstacles = False
        tutor = make_tutor(first_name="Marc", last_name="Soubiran", commune="32013")
        tutoring_request = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["in_person"], message="Bonjour"
        )
        db.session.flush()
        pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
        db.session.commit()
        return {
            "pair": pair.id,
            "referent": referent.email,
            "mentee": mentee.email,
            "tutor": tutor.email,
            "date": pair.proposed_at,
        }


def _get(app, email, url):
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b.client.get(url)


def test_referent_explanation_names_everyone_and_says_each_criterion_in_words(app):
    w = _world(app)
    page = html.unescape(
        _get(app, w["referent"], f"/referent/binomes/{w['pair']}/explication").get_data(
            as_text=True
        )
    )
    assert f"n° {w['pair']} du" in page
    assert "Julie Carrère" in page and "Marc Soubiran" in page and "Sophie Lamothe" in page
    assert "compte pour" in page and "points sur 100" in page
    assert "http://" in page and "/algorithme" in page  # the address, printed
    assert f"/referent/binomes/{w['pair']}/explication.pdf" in page
    r = _get(app, w["referent"], f"/referent/binomes/{w['pair']}/explication.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = pdf_text(r.data)
    flat = " ".join(text.split())
    for expected in (
        f"n° {w['pair']} du",
        "Julie Carrère",
        "Marc Soubiran",
        "Sophie Lamothe",
        "Maison des Solidarités",
        "Distance : Ce critère compte pour",
        "Ce critère compte pour",
        "sur 1 pour ce critère",
        "/algorithme",
        "Score obtenu",
    ):
        assert expected in flat, expected
    assert "jamais visible" not in flat
    _no_orphan_heading(text)


def test_tutor_explanation_pdf_shows_only_what_the_mentee_shared(app):
    w = _world(app)
    r = _get(app, w["tutor"], f"/tuteur/binome/{w['pair']}/explication.pdf")
    assert r.status_code == 200
    flat = " ".join(pdf_text(r.data).split())
    assert "Julie" in flat and "Marc Soubiran" in flat
    assert "Carrère" not in flat  # her last name is never shared
    other = flat.replace("Maison des Solidarités d'Auch", "").replace("32022 Auch Cedex", "")
    assert "Auch" not in other  # her commune
    assert "Score obtenu" not in flat  # the total would give the hidden parts
    assert "ne vous est pas communiquée" in flat
    _no_orphan_heading(pdf_text(r.data))


def test_mentee_explanation_names_her_and_the_tutor_by_first_name(app):
    w = _world(app)
    r = _get(app, w["mentee"], f"/beneficiaire/binome/{w['pair']}/explication.pdf")
    assert r.status_code == 200
    flat = " ".join(pdf_text(r.data).split())
    assert "Julie Carrère" in flat and "Marc" in flat and "Soubiran" not in flat
    assert "Sophie Lamothe" in flat


def _no_orphan_heading(text: str) -> None:
    pages = [p for p in text.split("\f") if p.strip()]
    for page in pages[:-1]:
        last = [line.strip() for line in page.splitlines() if line.strip()][-1]
        assert not any(last.startswith(h[:30]) for h in HEADINGS), f"titre seul en bas : {last!r}"


def test_pair_summary_is_one_page_with_what_the_mentee_may_see(app):
    w = _world(app)
    with app.app_context():
        pair = db.session.get(Pair, w["pair"])
        pair_service.answer(pair, side="tutor", accept=True, actor=pair.tutor)
        pair_service.answer(pair, side="mentee", accept=True, actor=pair.mentee)
        pair_service.confirm(pair, actor=pair.proposed_by)
        tutor_phone = pair.tutor.phone
        db.session.commit()
    r = _get(app, w["referent"], f"/referent/binomes/{w['pair']}/fiche.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = pdf_text(r.data)
    assert len([p for p in text.split("\f") if p.strip()]) == 1
    flat = " ".join(text.split())
    assert "Julie Carrère" in flat and "Marc" in flat and tutor_phone in flat
    assert "Soubiran" not in flat  # the tutor's last name: not what she sees
    assert "Faire ou refaire son CV" in flat and "Sophie Lamothe" in flat
