"""Meetings on a phone (Chromium, 360 px): the tutor corrects a meeting and plans the next one; the
meetings table, the corrections' history and the goals read without sideways scrolling, for the
tutor, the mentee and the référent (each table row becomes a card)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_active_pair, make_mentee, make_referent, make_tutor
from tests.tutorat.browser_support import CHROMIUM_ARGS, LiveServer, require_chromium
from tests.tutorat.test_browser_journey import Person
from tutorat.extensions import db
from tutorat.models import Meeting, MeetingChange
from tutorat.services import goals, meetings
from tutorat.services.profiles import local_today
from tutorat.templating import date_fr, day_fr

pytestmark = pytest.mark.browser

LONG_PLACE = "Médiathèque intercommunale Jean-Baptiste-de-La-Salle, salle de réunion n° 2"
LONG_NOTE = "Nous avons repris le CV ligne par ligne et préparé trois candidatures spontanées " * 3

# Nothing wider than the screen: the page itself, and no table scrolling inside its own frame.
NOTHING_SCROLLS_SIDEWAYS = """() => {
  const wide = [document.documentElement];
  document.querySelectorAll('.table-wrap, table, ul, section').forEach(e => wide.push(e));
  return wide.filter(e => e.scrollWidth > e.clientWidth + 1)
             .map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth);
}"""


@pytest.fixture(scope="module")
def chromium():
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _readable(person: Person, name: str) -> None:
    overflow = person.page.evaluate(NOTHING_SCROLLS_SIDEWAYS)
    assert overflow == [], (person.page.url, overflow)
    person.shot(name)  # also checks the page itself


def test_meetings_history_and_goals_on_a_phone(app, chromium):
    with app.app_context():
        referent = make_referent(first_name="Sophie")
        mentee = make_mentee(referent, first_name="Julie")
        tutor = make_tutor(first_name="Marc")
        pair = make_active_pair(referent, mentee, tutor)
        db.session.flush()
        for text in ("Refaire mon CV avec les dernières missions", "Passer le permis B"):
            goals.add_goal(pair, actor=mentee, text=text)
        goals.add_goal(pair, actor=mentee, code="job_interview")
        meeting = meetings.log_meeting(
            pair,
            actor=tutor,
            day=local_today(),
            duration_minutes=60,
            mode="in_person",
            place=LONG_PLACE,
            topics=["cv", "job_interview", "self_confidence"],
            note=LONG_NOTE,
        )
        meetings.confirm_meeting(meeting, pair, actor=mentee, confirmed=True)
        db.session.commit()
        ids = {"pair": pair.id, "meeting": meeting.id}
        emails = {"mentee": mentee.email, "tutor": tutor.email, "referent": referent.email}
    next_day = local_today() + timedelta(days=6)

    with LiveServer(app) as server:
        t = Person(chromium, server.url, emails["tutor"], 360, "rencontres-tuteur")
        page = t.go(f"/tuteur/binome/{ids['pair']}")
        # One card per meeting: the table's rows are blocks, each cell says what it is.
        display = page.evaluate(
            "getComputedStyle(document.querySelector('.table--stack tbody tr')).display"
        )
        assert display == "block"
        _readable(t, "binome")
        page.get_by_role("link", name="Corriger ou supprimer").click()
        page.wait_for_load_state()
        _readable(t, "corriger")
        page.get_by_label("Durée (en minutes)").fill("75")
        page.get_by_role("button", name="Enregistrer la correction").click()
        page.wait_for_load_state()
        assert "La rencontre est corrigée" in page.content()
        # The next meeting, from the binôme page; a day in the past is refused in French.
        page.get_by_label("Date de la prochaine rencontre").fill(
            (local_today() - timedelta(days=1)).isoformat()
        )
        page.get_by_role("button", name="Noter la prochaine rencontre").click()
        page.wait_for_load_state()
        assert "ne peut pas être dans le passé" in page.content()
        page.get_by_label("Date de la prochaine rencontre").fill(next_day.isoformat())
        page.get_by_label("Heure").fill("14:30")
        page.get_by_label("Lieu").fill(LONG_PLACE)
        page.get_by_role("button", name="Noter la prochaine rencontre").click()
        page.wait_for_load_state()
        html = page.content()
        assert "La prochaine rencontre est notée" in html and day_fr(next_day) in html
        assert "60 min → 75 min" in html
        _readable(t, "historique")

        m = Person(chromium, server.url, emails["mentee"], 360, "rencontres-beneficiaire")
        page = m.go("/beneficiaire/")
        assert day_fr(next_day) in page.content()
        page = m.go(f"/beneficiaire/binome/{ids['pair']}")
        html = page.content()
        assert day_fr(next_day) in html and "Passer le permis B" in html
        # Corrected, the meeting she had confirmed is hers to confirm again.
        assert "Cette rencontre a-t-elle bien eu lieu" in html
        _readable(m, "binome")

        r = Person(chromium, server.url, emails["referent"], 360, "rencontres-referent")
        page = r.go(f"/referent/binomes/{ids['pair']}")
        html = page.content()
        assert "Corrections des rencontres" in html and "60 min → 75 min" in html
        assert f"Corrigée (du {date_fr(local_today())})" in html
        assert "Passer le permis B" in html and day_fr(next_day) in html
        _readable(r, "binome")

        # The same pages at 1280 px: real tables again.
        wide = Person(chromium, server.url, emails["referent"], 1280, "rencontres-referent")
        page = wide.go(f"/referent/binomes/{ids['pair']}")
        assert (
            page.evaluate(
                "getComputedStyle(document.querySelector('.table--stack tbody tr')).display"
            )
            == "table-row"
        )
        wide.shot("binome")

    with app.app_context():
        assert db.session.get(Meeting, ids["meeting"]).duration_minutes == 75
        assert len(db.session.scalars(select(MeetingChange)).all()) == 1
