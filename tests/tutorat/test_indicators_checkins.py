"""Check-in answer rates in the indicators: asked, answered, Bien / Moyen / Pas bien, missed, recorded
by phone; the admin's département, a référent's own caseload; the page and its CSV export."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Browser
from tests.factories import (
    PASSWORD,
    make_active_pair,
    make_admin,
    make_mentee,
    make_referent,
    make_tutor,
)
from tutorat.extensions import db
from tutorat.models import CheckIn, CheckInAnswer


def _ask(pair, person, round_number, *, days_ago, answer=None, by=None):
    now = datetime.now(UTC)
    db.session.add(
        CheckIn(
            pair_id=pair.id,
            person_id=person.id,
            round_number=round_number,
            asked_at=now - timedelta(days=days_ago),
            answer=answer,
            comment="",
            answered_at=now if answer else None,
            recorded_by_id=by.id if by else None,
        )
    )


@pytest.fixture
def world(app):
    with app.app_context():
        mine, other = make_referent(), make_referent()
        a = make_mentee(mine, first_name="Anne")
        b = make_mentee(mine, first_name="Berthe")
        c = make_mentee(other, first_name="Carole")
        t1, t2, t3 = (make_tutor(capacity=2) for _ in range(3))
        p1, p2 = make_active_pair(mine, a, t1), make_active_pair(mine, b, t2)
        p3 = make_active_pair(other, c, t3)
        # Mine: mentees answer Bien, Pas bien (by phone), one missed (10 days), one recent open;
        # tutors: Bien, Moyen.
        _ask(p1, a, 0, days_ago=40, answer=CheckInAnswer.GOOD)
        _ask(p1, a, 1, days_ago=10)
        _ask(p2, b, 0, days_ago=20, answer=CheckInAnswer.BAD, by=mine)
        _ask(p2, b, 1, days_ago=2)
        _ask(p1, t1, 0, days_ago=40, answer=CheckInAnswer.GOOD)
        _ask(p2, t2, 0, days_ago=20, answer=CheckInAnswer.AVERAGE)
        # The other référent's: one Pas bien; and one question older than the period.
        _ask(p3, c, 0, days_ago=5, answer=CheckInAnswer.BAD)
        _ask(p3, t3, 0, days_ago=800, answer=CheckInAnswer.GOOD)
        admin = make_admin()
        db.session.commit()
        return {"mine": mine.email, "other": other.email, "admin": admin.email, "tutor": t1.email}


def _client(app, email):
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b.client


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))


def test_a_referent_sees_the_rates_of_their_caseload(app, world):
    client = _client(app, world["mine"])
    page = html.unescape(client.get("/indicateurs/points").get_data(as_text=True))
    assert "« Comment se passe le tutorat ? » : les réponses" in page
    response = client.get("/indicateurs/points.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "tutorat-points-mes-beneficiaires-" in response.headers["Content-Disposition"]
    header, mentees, tutors, together = _rows(response)
    assert header[:4] == ["Qui répond", "Questions posées", "Réponses", "Taux de réponse"]
    # Mentees: 4 asked, 2 answered (50 %), Bien 50 %, Moyen 0, Pas bien 50 %, 1 missed, 1 by phone.
    assert mentees == ["Bénéficiaires", "4", "2", "50,0", "50,0", "0,0", "50,0", "1", "1"]
    assert tutors == ["Tuteurs", "2", "2", "100,0", "50,0", "50,0", "0,0", "0", "0"]
    assert together[:4] == ["Ensemble", "6", "4", "66,7"]
    assert together[7:] == ["1", "1"]
    # The page says the same, in French figures, and names nobody.
    assert "66,7\u00a0%" in page and "Anne" not in page and "Carole" not in page


def test_the_admin_sees_the_departement_and_the_period_counts(app, world):
    client = _client(app, world["admin"])
    response = client.get("/indicateurs/points.csv")
    assert "tutorat-points-departement-" in response.headers["Content-Disposition"]
    _, mentees, tutors, together = _rows(response)
    assert mentees[1:3] == ["5", "3"] and tutors[1:3] == ["2", "2"]  # the 800-day one is out
    assert together[6] == "40,0"  # 2 Pas bien among 5 answers
    # A period that covers it counts it.
    old = (datetime.now(UTC) - timedelta(days=900)).date().isoformat()
    _, _, tutors, _ = _rows(client.get(f"/indicateurs/points.csv?du={old}"))
    assert tutors[1:3] == ["3", "3"]
    # An empty period: no figure rather than a division by zero.
    _, mentees, _, _ = _rows(client.get("/indicateurs/points.csv?du=2001-01-01&au=2001-12-31"))
    assert mentees == ["Bénéficiaires", "0", "0", "", "", "", "", "0", "0"]


def test_bad_period_and_other_roles(app, world):
    admin = _client(app, world["admin"])
    bad = admin.get("/indicateurs/points?du=32/13/2026")
    assert bad.status_code == 400 and "n'est pas une date valide" in html.unescape(
        bad.get_data(as_text=True)
    )
    assert admin.get("/indicateurs/points.csv?au=hier").status_code == 400
    tutor = _client(app, world["tutor"])
    assert tutor.get("/indicateurs/points").status_code == 403
    assert tutor.get("/indicateurs/points.csv").status_code == 403
    assert app.test_client().get("/indicateurs/points.csv").status_code in (302, 401)
    # Linked from the indicators' page.
    assert "/indicateurs/points" in admin.get("/indicateurs/").get_data(as_text=True)
