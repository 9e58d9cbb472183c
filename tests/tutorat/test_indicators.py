"""Indicators: figures checked against a hand-built caseload, scoping, period, CSV, SVG, query count."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat import charts
from tutorat.extensions import db
from tutorat.models import Commune, Meeting, Pair, StatusEvent, TutoringRequest
from tutorat.services import indicators
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.services.indicators import Percent, Period, PeriodError, median_of_counts, parse_period

SVG = "{http://www.w3.org/2000/svg}"
AUCH, PAVIE, CONDOM = "32013", "32307", "32107"


def _ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def _open(mentee, actor):
    tutoring_request = request_service.open_request(
        mentee, actor=actor, topics=["cv"], meeting_modes=["video"], message="Bonjour"
    )
    db.session.flush()
    return tutoring_request


def _accept_both(pair, tutor, referent):
    pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
    pair_service.answer(pair, side="mentee", accept=True, actor=referent)


def _set_dates(tutoring_request, *, created, proposed=None, matched=None):
    """Move a demande's creation and first status events back in time (whole days, for exact delays)."""
    db.session.execute(
        update(TutoringRequest)
        .where(TutoringRequest.id == tutoring_request.id)
        .values(created_at=created, updated_at=created)
    )
    for to_status, at in (("open", created), ("proposed", proposed), ("matched", matched)):
        if at is not None:
            db.session.execute(
                update(StatusEvent)
                .where(
                    StatusEvent.entity == "request",
                    StatusEvent.entity_id == tutoring_request.id,
                    StatusEvent.to_status == to_status,
                )
                .values(at=at)
            )


def _meeting(pair, tutor, confirmation=None):
    db.session.add(
        Meeting(
            pair_id=pair.id,
            logged_by_id=tutor.id,
            date=date.today(),
            duration_minutes=45,
            mode="video",
            mentee_confirmation=confirmation,
        )
    )


@pytest.fixture
def world(app):
    """Référent A: 4 demandes (one ended binôme, one declined, one active, one never proposed).
    Référent B: 2 demandes (one proposal waiting for the tutor, one open). Four tutors, one not validated.
    """
    with app.app_context():
        a, b, admin = make_referent(), make_referent(), make_admin()
        t1 = make_tutor(commune=AUCH, capacity=2, remote_ok=True)
        t2 = make_tutor(commune=PAVIE, capacity=1, remote_ok=True)
        t3 = make_tutor(commune=PAVIE, capacity=3, remote_ok=True, validated=False)
        t4 = make_tutor(commune=CONDOM, capacity=3, remote_ok=True)
        m1, m2, m3 = (make_mentee(a, commune=AUCH, remote_ok=True) for _ in range(3))
        m4 = make_mentee(a, commune=CONDOM, remote_ok=True)
        n1 = make_mentee(b, commune=AUCH, remote_ok=True)
        n2 = make_mentee(b, commune=AUCH, remote_ok=True)

        # m1: proposed after 20 days, active after 35, two meetings, ended with a training.
        d1 = _open(m1, a)
        p1 = pair_service.propose(d1, t1.id, actor=a)
        _accept_both(p1, t1, a)
        pair_service.confirm(p1, actor=a)
        db.session.flush()
        _meeting(p1, t1)
        _meeting(p1, t1, "confirmed")
        # m2: proposed after 2 days, declined by the tutor (too far): back to open.
        d2 = _open(m2, a)
        p2 = pair_service.propose(d2, t2.id, actor=a)
        pair_service.answer(p2, side="tutor", accept=False, actor=t2, reason="too_far")
        # m3: proposed after 1 day, active after 5, one meeting (and one the mentee contested).
        d3 = _open(m3, a)
        p3 = pair_service.propose(d3, t1.id, actor=a)
        _accept_both(p3, t1, a)
        pair_service.confirm(p3, actor=a)
        db.session.flush()
        _meeting(p3, t1)
        _meeting(p3, t1, "contested")
        pair_service.end(p1, actor=a, outcomes=["training"])
        # m4: open for 5 days, no proposal.
        d4 = _open(m4, a)
        # Référent B: n1 proposed to t4, the mentee accepted; n2 open.
        e1 = _open(n1, b)
        q1 = pair_service.propose(e1, t4.id, actor=b)
        pair_service.answer(q1, side="mentee", accept=True, actor=b)
        e2 = _open(n2, b)
        db.session.flush()

        _set_dates(d1, created=_ago(60), proposed=_ago(40), matched=_ago(25))
        _set_dates(d2, created=_ago(30), proposed=_ago(28))
        _set_dates(d3, created=_ago(20), proposed=_ago(19), matched=_ago(15))
        _set_dates(d4, created=_ago(5))
        _set_dates(e1, created=_ago(10), proposed=_ago(3))
        _set_dates(e2, created=_ago(400))  # outside the default period
        for pair, proposed, confirmed in (
            (p1, 40, 25),
            (p2, 28, None),
            (p3, 19, 15),
            (q1, 3, None),
        ):
            values = {"proposed_at": _ago(proposed)}
            if confirmed is not None:
                values["confirmed_at"] = _ago(confirmed)
            db.session.execute(update(Pair).where(Pair.id == pair.id).values(**values))
        db.session.commit()
        names = [p.first_name for p in (m1, m2, m3, m4, n1, n2, t1, t2, t3, t4)]
        names += [p.last_name for p in (m1, m2, m3, m4, n1, n2, t1, t2, t3, t4)]
        return {
            "a": a.id,
            "b": b.id,
            "a_email": a.email,
            "b_email": b.email,
            "admin_email": admin.email,
            "names": names,
            "mentee_email": m1.email,
            "tutor_email": t1.email,
        }


def _canton(code: str) -> str:
    return db.session.scalar(select(Commune.canton_code).where(Commune.code_insee == code))


def _epci(code: str) -> str:
    return db.session.scalar(select(Commune.epci_siren).where(Commune.code_insee == code))


def _report(referent_id, **period):
    today = datetime.now(UTC).date()
    return indicators.build_report(
        parse_period(period.get("du"), period.get("au"), today=today),
        referent_id=referent_id,
        communes=True,
    )


def _login(app, email) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(email, PASSWORD).status_code == 302
    return browser


# ---- Figures ----


def test_figures_of_a_referents_caseload(world, ctx):
    r = _report(world["a"])
    assert r.requests_created == 4
    assert r.proposals == 3
    assert r.answers == {
        "accepted_by_both": 2,
        "refused": 1,
        "lapsed": 0,
        "taken_back": 0,
        "awaiting": 0,
    }
    assert r.acceptance_rate == pytest.approx(200 / 3)
    # Delays: to a first proposal 20, 2 and 1 days (m4 still waiting); to an active binôme 35 and 5.
    assert r.to_proposal.counts == {20: 1, 2: 1, 1: 1}
    assert (r.to_proposal.reached, r.to_proposal.waiting) == (3, 1)
    assert r.to_proposal.median == 2
    assert r.to_proposal.within(15) == pytest.approx(200 / 3)
    assert r.to_proposal.within(30) == 100
    assert r.to_active.counts == {35: 1, 5: 1}
    assert r.to_active.median == 20
    assert r.to_active.within(15) == 50
    assert r.to_active.within(30) == 50
    # Meetings: 2 for p1, 1 for p3 (the contested one is not counted).
    assert r.meetings == {2: 1, 1: 1}
    assert r.meetings_mean == 1.5
    assert r.meetings_median == 1.5
    assert r.pairs_ended == 1 and r.outcomes["training"] == 1
    assert dict(r.outcome_rows())["Est entré en formation"] == 1
    assert r.reasons == {"too_far": (1, 0)}
    assert ("Trop loin", 1, 0) in r.reason_rows()
    # t1 has a live binôme and had two of them; nobody else had one with A's caseload.
    assert (r.tutors_live, r.tutors_with_pair, r.tutors_repeat) == (1, 1, 1)


def test_figures_of_the_whole_departement(world, ctx):
    r = _report(None)
    assert r.requests_created == 5  # e2 is older than twelve months
    assert r.proposals == 4
    assert r.answers["awaiting"] == 1
    assert r.acceptance_rate == pytest.approx(200 / 3)  # pending proposals do not count
    assert r.to_proposal.counts == {20: 1, 2: 1, 1: 1, 7: 1}
    assert r.to_proposal.median == 4.5
    assert (r.tutors_live, r.tutors_with_pair, r.tutors_repeat) == (2, 1, 1)


def test_supply_and_demand_by_territory(world, ctx):
    r = _report(None)
    cantons = {t.code: t for t in r.cantons}
    # Open demandes: m2 and n2 in Auch, m4 in Condom (n1 has a proposal, not open).
    demand = {}
    for code in (AUCH, AUCH, CONDOM):
        demand[_canton(code)] = demand.get(_canton(code), 0) + 1
    # Places: t1 1 of 2 left (p3 live), t2 1 (the declined proposal freed it), t4 2 of 3, t3 not validated.
    places = {}
    for code, n in ((AUCH, 1), (PAVIE, 1), (CONDOM, 2)):
        places[_canton(code)] = places.get(_canton(code), 0) + n
    assert {c: t.open_requests for c, t in cantons.items() if t.open_requests} == demand
    assert {c: t.places for c, t in cantons.items() if t.places} == places
    assert sum(t.tutors for t in r.cantons) == 3
    assert r.open_requests == 3 and r.free_places == 4
    # Every canton and EPCI of the Gers is listed, the most short of tutors first.
    assert len(r.cantons) == db.session.scalar(
        select(db.func.count(db.distinct(Commune.canton_code)))
    )
    assert [t.gap for t in r.cantons] == sorted(t.gap for t in r.cantons)
    epcis = {t.code: t for t in r.epcis}
    assert epcis[_epci(AUCH)].open_requests == 2
    assert epcis[_epci(AUCH)].places == 2  # Auch and Pavie are both in the Grand Auch
    communes = {c.code: c for c in r.communes}
    assert (communes[AUCH].open_requests, communes[AUCH].places) == (2, 1)
    assert len(r.communes) == 458
    # Cantons and EPCIs are aggregated in SQL, communes apart: the two agree.
    for territories, name in ((r.cantons, "canton"), (r.epcis, "epci")):
        summed: dict[str, list[int]] = {}
        for c in r.communes:
            acc = summed.setdefault(getattr(c, name), [0, 0, 0])
            acc[0] += c.open_requests
            acc[1] += c.tutors
            acc[2] += c.places
        assert {t.name: [t.open_requests, t.tutors, t.places] for t in territories} == summed
    # The indicators page itself does not build the communes.
    assert indicators.build_report(r.period, referent_id=None).communes == []


def test_a_referent_never_counts_another_referents_people(world, ctx):
    a, b = _report(world["a"]), _report(world["b"])
    assert (a.requests_created, b.requests_created) == (4, 1)
    assert (a.proposals, b.proposals) == (3, 1)
    assert b.answers["awaiting"] == 1 and a.answers["awaiting"] == 0
    assert b.acceptance_rate is None
    assert b.to_proposal.counts == {7: 1}
    assert (b.tutors_live, b.tutors_with_pair) == (1, 0)
    assert b.meetings == {} and b.pairs_ended == 0
    # Open demandes are the référent's own; free places are the département's (same for both).
    assert a.open_requests == 2 and b.open_requests == 1
    assert {c.code: c.open_requests for c in a.communes if c.open_requests} == {AUCH: 1, CONDOM: 1}
    assert {c.code: c.open_requests for c in b.communes if c.open_requests} == {AUCH: 1}
    assert a.free_places == b.free_places == 4


def test_the_period_filters_what_happened_in_it(world, ctx):
    today = datetime.now(UTC).date()
    r = _report(world["a"], du=(today - timedelta(days=35)).isoformat(), au=today.isoformat())
    assert r.requests_created == 3  # m1's demande is 60 days old
    assert r.proposals == 2  # p2 and p3; p1 was 40 days ago
    assert r.pairs_started == 2  # p1 (confirmed 25 days ago) and p3
    r = _report(None, du="01/01/2020", au=(today - timedelta(days=100)).strftime("%d/%m/%Y"))
    assert r.requests_created == 1  # e2, 400 days ago
    assert r.proposals == 0 and r.acceptance_rate is None and r.to_proposal.median is None


# ---- The period ----


def test_parse_period():
    today = date(2026, 11, 28)
    assert parse_period(None, None, today=today) == Period(date(2025, 12, 1), today)
    assert parse_period("", "  ", today=today) == Period(date(2025, 12, 1), today)
    assert parse_period("2026-01-15", "31/03/2026", today=today) == Period(
        date(2026, 1, 15), date(2026, 3, 31)
    )
    assert parse_period(None, "2026-03-31", today=today).start == date(2025, 4, 1)
    assert parse_period("2026-03-31", "2026-03-31", today=today).months == ["2026-03"]
    assert len(parse_period("2000-01-01", "2100-12-31", today=today).months) == 101 * 12
    for du, au, words in (
        ("2026-05-01", "2026-01-01", "à l'envers"),
        ("2026-13-01", None, "pas une date valide"),
        ("demain", None, "pas une date valide"),
        (None, "2026-02-30", "pas une date valide"),
        ("x" * 5000, None, "pas une date valide"),
        ("1900-01-01", None, "entre l'an 2000 et l'an 2100"),
        (None, "9999-12-31", "entre l'an 2000 et l'an 2100"),
    ):
        with pytest.raises(PeriodError, match=words):
            parse_period(du, au, today=today)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("du=2026-05-01&au=2026-01-01", "la période est à l&#39;envers"),
        ("du=2026-13-45", "n&#39;est pas une date valide"),
        ("au=n%27importe%20quoi", "n&#39;est pas une date valide"),
        ("du=0001-01-01", "entre l&#39;an 2000 et l&#39;an 2100"),
        ("au=9999-12-31", "entre l&#39;an 2000 et l&#39;an 2100"),
        ("du=%00%01", "n&#39;est pas une date valide"),
    ],
)
def test_a_bad_period_is_a_400_with_a_french_message(world, app, query, words):
    browser = _login(app, world["admin_email"])
    response = browser.client.get(f"/indicateurs/?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert words in html
    assert 'aria-invalid="true"' in html and "La période n'est pas valide" in html
    response = browser.client.get(f"/indicateurs/export/cantons.csv?{query}")
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)


# ---- The page ----


def test_the_page_for_the_admin_and_for_a_referent(world, app):
    admin = _login(app, world["admin_email"])
    html = admin.client.get("/indicateurs/").get_data(as_text=True)
    assert "tout le département du Gers" in html
    assert "Indicateurs" in html and 'href="/indicateurs/"' in html  # the menu link
    assert "Taille selon le nombre" in admin.client.get("/indicateurs/communes").get_data(
        as_text=True
    )
    referent = _login(app, world["a_email"])
    response = referent.client.get("/indicateurs/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "les bénéficiaires dont vous êtes le référent" in html
    territories = referent.client.get("/indicateurs/territoires").get_data(as_text=True)
    assert "Les places libres sont celles de tous les tuteurs du département" in territories
    communes = referent.client.get("/indicateurs/communes").get_data(as_text=True)
    assert "Les places libres sont celles de tous les tuteurs du département" in communes
    table = referent.client.get("/indicateurs/tableau/reponses").get_data(as_text=True)
    assert "Les personnes que vous suivez" in table and 'id="tableau-reponses"' in table
    # No one's name on the pages: only the logged-in référent's own, in the header.
    for name in world["names"]:
        assert name not in html and name not in communes
        assert name not in territories and name not in table


def test_the_page_has_no_inline_style_or_script(world, app):
    html = _login(app, world["admin_email"]).client.get("/indicateurs/").get_data(as_text=True)
    assert " style=" not in html and "<style" not in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))


def test_every_chart_is_well_formed_svg_with_a_text_alternative(world, app):
    admin = _login(app, world["admin_email"])
    html = admin.client.get("/indicateurs/").get_data(as_text=True)
    assert 'href="/indicateurs/communes"' in html
    # The map and the 458 communes are on their own page: the main page stays light for phones.
    communes = admin.client.get("/indicateurs/communes")
    assert communes.status_code == 200
    communes_html = communes.get_data(as_text=True)
    assert len(html.encode()) < 100_000
    # Today's supply and demand by canton and EPCI are on their own page too.
    assert 'href="/indicateurs/territoires"' in html
    territories = admin.client.get("/indicateurs/territoires").get_data(as_text=True)
    svgs = re.findall(r"<svg\b.*?</svg>", html + territories + communes_html, flags=re.S)
    assert len(svgs) == 9
    assert " style=" not in communes_html and "<style" not in communes_html
    assert 'id="tableau-communes"' in communes_html
    for text in svgs:
        root = ET.fromstring(text)
        assert root.tag == f"{SVG}svg"
        assert root.get("role") == "img"
        title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
        assert title is not None and title.text.strip()
        assert desc is not None and desc.text.strip()
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    # The map: a dot per commune, a disc per commune with an open demande, a ring per commune with places.
    carte = ET.fromstring(next(s for s in svgs if 'id="carte-gers-title"' in s))
    circles = carte.iter(f"{SVG}circle")
    fills = [c.get("fill") for c in circles]
    assert fills.count(charts.BACKGROUND_DOT) == 458
    assert fills.count(charts.ARMAGNAC) == 2 + 1  # Auch, Condom; plus the legend's disc
    # The same figures in tables: a table per chart, linked from the chart (its own page, and its
    # CSV file), with a caption and header cells.
    keys = re.findall(r'href="/indicateurs/tableau/(\w+)\?du=', html)
    assert len(keys) >= 8 and len(set(keys)) == len(keys)
    for key in keys:
        assert f'href="/indicateurs/export/{key}.csv?du=' in html
        table = admin.client.get(f"/indicateurs/tableau/{key}?du=2026-01-01&au=2026-06-30")
        assert table.status_code == 200, key
        text = table.get_data(as_text=True)
        assert text.count("<caption") == 1 and 'scope="col"' in text and 'scope="row"' in text
    assert territories.count("<caption") == 2
    assert admin.client.get("/indicateurs/tableau/utilisateurs").status_code == 404
    bad = admin.client.get("/indicateurs/tableau/mois?du=2026-13-45")
    assert bad.status_code == 400 and "date valide" in bad.get_data(as_text=True)


def test_csv_export(world, app):
    browser = _login(app, world["admin_email"])
    response = browser.client.get("/indicateurs/export/cantons.csv?du=2026-01-01&au=2026-06-30")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="tutorat-cantons-departement-2026-01-01-2026-06-30.csv"' in disposition
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "Canton",
        "Code du canton",
        "Demandes ouvertes",
        "Tuteurs avec des places",
        "Places libres",
        "Écart (places moins demandes)",
        "Situation",
    ]
    assert all(len(row) == 7 for row in rows)
    by_code = {row[1]: row for row in rows[1:]}
    with app.app_context():
        condom = by_code[_canton(CONDOM)]
    assert condom[2:6] == ["1", "1", "2", "1"]
    assert b"\r\n" in body


def test_every_table_exports_without_names(world, app):
    for email in (world["admin_email"], world["a_email"]):
        browser = _login(app, email)
        for table in indicators.TABLES:
            response = browser.client.get(f"/indicateurs/export/{table}.csv")
            assert response.status_code == 200, table
            text = response.data.decode("utf-8")
            assert text.startswith("\ufeff")
            header = text[1:].split("\r\n", 1)[0]
            assert ";" in header
            for name in world["names"]:
                assert name not in text, (table, name)


def test_synthesis_csv_uses_a_decimal_comma(world, app):
    browser = _login(app, world["a_email"])
    text = browser.client.get("/indicateurs/export/synthese.csv").data.decode("utf-8-sig")
    rows = dict(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows["Indicateur"] == "Valeur"
    assert rows["Demandes créées pendant la période"] == "4"
    assert rows[
        "Taux d'acceptation des propositions (acceptées ÷ acceptées, refusées ou expirées)"
    ] == ("66,7")
    assert rows["Rencontres par binôme commencé (moyenne)"] == "1,5"


def test_unknown_table_is_a_404(world, app):
    browser = _login(app, world["admin_email"])
    assert browser.client.get("/indicateurs/export/utilisateurs.csv").status_code == 404
    assert browser.client.get("/indicateurs/export/synthese.json").status_code == 404


@pytest.mark.parametrize("who", ["mentee_email", "tutor_email"])
def test_mentees_and_tutors_cannot_see_indicators(world, app, who):
    browser = _login(app, world[who])
    assert browser.client.get("/indicateurs/").status_code == 403
    assert browser.client.get("/indicateurs/export/cantons.csv").status_code == 403


def test_anonymous_is_sent_to_the_login_page(app):
    response = app.test_client().get("/indicateurs/export/cantons.csv")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


# ---- Cost: the same number of queries whatever the data ----


def _count_queries(app, browser, url) -> int:
    count = 0

    def before(*_args):
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert browser.client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count


def test_the_number_of_queries_does_not_grow_with_the_data(world, app):
    admin = _login(app, world["admin_email"])
    referent = _login(app, world["a_email"])
    before = [_count_queries(app, b, "/indicateurs/") for b in (admin, referent)]
    with app.app_context():
        from tutorat.models import User

        a = db.session.get(User, world["a"])
        for i in range(25):
            mentee = make_mentee(a, commune=CONDOM if i % 2 else AUCH, remote_ok=True)
            tutor = make_tutor(commune=PAVIE, capacity=2, remote_ok=True)
            tutoring_request = _open(mentee, a)
            if i % 3:
                pair = pair_service.propose(tutoring_request, tutor.id, actor=a)
                _accept_both(pair, tutor, a)
                pair_service.confirm(pair, actor=a)
                db.session.flush()
                _meeting(pair, tutor)
        db.session.commit()
    after = [_count_queries(app, b, "/indicateurs/") for b in (admin, referent)]
    assert after == before
    assert before[0] <= 16


# ---- Pure helpers ----


def test_median_of_counts():
    assert median_of_counts({}) is None
    assert median_of_counts({5: 1}) == 5
    assert median_of_counts({1: 1, 3: 1}) == 2
    assert median_of_counts({0: 3, 10: 1}) == 0
    assert median_of_counts({1: 2, 2: 2, 9: 1}) == 2


def test_display_and_csv_values():
    assert indicators.display(1234) == "1\u202f234"
    assert indicators.display(Percent(200 / 3)) == "66,7\u00a0%"
    assert indicators.display(Percent(50)) == "50\u00a0%"
    assert indicators.display(2.25) == "2,2" or indicators.display(2.25) == "2,3"
    assert indicators.display(None) is None
    assert indicators.csv_value(Percent(50)) == "50,0"
    assert indicators.csv_value(1234) == "1234"
    assert indicators.csv_value("=SOMME(A1)") == "'=SOMME(A1)"
    assert indicators.csv_value(None) == ""


def test_charts_escape_labels_and_stay_well_formed():
    hostile = 'Canton <b>"&</b>'
    for svg in (
        charts.bar_chart("a", hostile, [hostile, "Deux"], [charts.Series(hostile, [3, 0])]),
        charts.column_chart("b", "T", ["0 à\n7 j", hostile], [charts.Series("S", [0, 0])]),
        charts.line_chart("c", "T", ["janv.\n2026"], [charts.Series("S", [2])]),
        charts.line_chart("d", "T", [], [charts.Series("S", [])]),
        charts.bar_chart("e", "T", [], []),
        charts.dot_map("f", hostile, [charts.MapPoint(hostile, 43.6, 0.5, 100, 3, 1)]),
        charts.dot_map("g", "T", []),
    ):
        root = ET.fromstring(str(svg))
        assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
        assert "<b>" not in str(svg)
        assert " style=" not in str(svg) and "<script" not in str(svg)


def test_chart_description_gives_the_figures():
    text = charts.describe(["Auch", "Condom"], [charts.Series("Demandes", [3, 1])])
    assert text == "Auch — demandes : 3 ; Condom — demandes : 1."
