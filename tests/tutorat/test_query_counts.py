"""The benchmarked pages cost the same number of SQL queries on a small and on a larger database.

Counted with a `before_cursor_execute` listener (on the application's connections and on the
access log's own), for the candidate list of a demande, the référent's dashboard, a binôme page
and the indicators page: with the tutors' pool empty (as after a change to a tutor made by
anyone) and with it kept. No page is kept anywhere: each request renders it.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from tests.conftest import Browser
from tests.factories import PASSWORD, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import (
    Meeting,
    MeetingChange,
    MeetingChangeKind,
    Pair,
    TutoringRequest,
    TutorProfile,
    User,
)
from tutorat.services import audit, indicators, suggestions
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service

COMMUNES = ("32013", "32307", "32107", "32160", "32208", "32256")
METIERS = ("J1501", "K1302", "A1414", "N4105")


def _open(mentee, actor) -> TutoringRequest:
    tutoring_request = request_service.open_request(
        mentee, actor=actor, topics=["cv"], meeting_modes=["video"], message="Bonjour"
    )
    db.session.flush()
    return tutoring_request


def _active_pair(referent, mentee, tutor, meetings: int) -> Pair:
    pair = pair_service.propose(_open(mentee, referent), tutor.id, actor=referent)
    pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
    pair_service.answer(pair, side="mentee", accept=True, actor=referent)
    pair_service.confirm(pair, actor=referent)
    for i in range(meetings):
        db.session.add(
            Meeting(
                pair_id=pair.id,
                logged_by_id=tutor.id,
                date=date.today() - timedelta(days=3 * i),
                duration_minutes=45,
                mode="video",
            )
        )
    db.session.flush()
    return pair


def _grow(
    referent, *, tutors: int, open_requests: int, active: int, pending: int, seed: int
) -> None:
    """More of everything, in the référent's caseload and in another one's."""
    other = make_referent()
    people = [
        make_tutor(
            commune=COMMUNES[(seed + i) % len(COMMUNES)],
            metier=METIERS[i % len(METIERS)],
            capacity=3,
            remote_ok=True,
        )
        for i in range(tutors)
    ]
    for i in range(open_requests):
        owner = referent if i % 2 == 0 else other
        _open(make_mentee(owner, commune=COMMUNES[i % len(COMMUNES)], remote_ok=True), owner)
    for i in range(active):
        owner = referent if i % 2 == 0 else other
        _active_pair(owner, make_mentee(owner, remote_ok=True), people[i % len(people)], meetings=4)
    for i in range(pending):
        mentee = make_mentee(referent, remote_ok=True)
        pair_service.propose(_open(mentee, referent), people[-1 - i % 3].id, actor=referent)
    db.session.commit()


@contextmanager
def _counting(*engines):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN (PostgreSQL's is implicit)
            statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def _clear_caches() -> None:
    suggestions._POOLS.clear()


@pytest.fixture
def world(app):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, remote_ok=True, commune="32013")
        tutor = make_tutor(remote_ok=True, capacity=3)
        tutoring_request = _open(mentee, referent)
        pair = _active_pair(referent, make_mentee(referent, remote_ok=True), tutor, meetings=2)
        db.session.commit()
        return {
            "referent": referent.email,
            "referent_id": referent.id,
            "request": tutoring_request.id,
            "pair": pair.id,
        }


def _measure(app, browser: Browser, urls: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Queries of each page: the tutors' pool empty, then kept."""
    out = {}
    with app.app_context():
        engines = (db.engine, audit.log_engine())
    for page, url in urls.items():
        counts = []
        _clear_caches()
        for _ in range(2):
            with _counting(*engines) as statements:
                response = browser.client.get(url)
                assert response.status_code == 200, page
                assert "X-Tutorat-Cache" not in response.headers
            counts.append(len(statements))
        out[page] = tuple(counts)
    return out


def test_query_counts_do_not_grow_with_the_data(app, world):
    browser = Browser(app.test_client())
    assert browser.login(world["referent"], PASSWORD).status_code == 302
    urls = {
        "demande": f"/referent/demandes/{world['request']}",
        "tuteurs écartés": f"/referent/demandes/{world['request']}/ecartes",
        "tableau de bord": "/referent/",
        "binôme": f"/referent/binomes/{world['pair']}",
        "indicateurs": "/indicateurs/",
        "indicateurs : territoires": "/indicateurs/territoires",
    }
    for url in urls.values():  # reference data read once per process (communes, ROME labels)
        assert browser.client.get(url).status_code == 200
    small = _measure(app, browser, urls)
    with app.app_context():
        referent = db.session.get(User, world["referent_id"])
        _grow(referent, tutors=30, open_requests=24, active=12, pending=4, seed=1)
        pair = db.session.get(Pair, world["pair"])
        for i in range(
            3
        ):  # corrections of its meetings, by the tutor (one query whatever their number)
            db.session.add(
                MeetingChange(
                    pair_id=pair.id,
                    meeting_id=1000 + i,
                    kind=MeetingChangeKind.DELETED,
                    actor_id=pair.tutor_id,
                    changes={"duration_minutes": [30, None]},
                )
            )
        for i in range(8):  # more meetings on the binôme shown
            db.session.add(
                Meeting(
                    pair_id=pair.id,
                    logged_by_id=pair.tutor_id,
                    date=date.today() - timedelta(days=30 + i),
                    duration_minutes=30,
                    mode="phone",
                )
            )
        db.session.commit()
        tutors = db.session.scalar(select(func.count()).select_from(TutorProfile))
        assert tutors >= 31
    large = _measure(app, browser, urls)
    assert large == small, (
        f"requêtes par page (vivier vide, vivier gardé) : petit {small}, grand {large}"
    )
    # The pool is the only thing kept: the demande page is cheaper with it, the others are not.
    assert small["demande"][1] < small["demande"][0]
    assert small["tuteurs écartés"][1] < small["tuteurs écartés"][0]
    for page in ("tableau de bord", "binôme", "indicateurs", "indicateurs : territoires"):
        assert small[page][0] == small[page][1], (page, small)


def test_candidate_list_follows_a_change_committed_elsewhere(app, world):
    """The per-worker tutors' pool is rebuilt when a tutor changes (pool_version triggers)."""
    browser = Browser(app.test_client())
    assert browser.login(world["referent"], PASSWORD).status_code == 302
    url = f"/referent/demandes/{world['request']}"
    with app.app_context():
        _clear_caches()
    first = browser.client.get(url).get_data(as_text=True)
    with app.app_context():
        newcomer = make_tutor(
            remote_ok=True, capacity=1, first_name="Nouvelle", last_name="Tutrice"
        )
        db.session.commit()
        newcomer_id = newcomer.id
    assert "Nouvelle Tutrice" not in first
    page = browser.client.get(url).get_data(as_text=True)
    assert "Nouvelle Tutrice" in page.split('id="ecartes"')[0]
    with app.app_context():  # the same tutor, now full: no longer proposed, shown as left out
        profile = db.session.get(TutorProfile, newcomer_id)
        profile.places_used = profile.capacity
        db.session.commit()
    page = browser.client.get(url).get_data(as_text=True)
    ranked, counts = page.split('id="ecartes"')
    assert "Nouvelle Tutrice" not in ranked and "Plus de place libre</strong> : 1 tuteur" in counts
    left_out = browser.client.get(f"{url}/ecartes").get_data(as_text=True)
    assert "Nouvelle Tutrice" in left_out.split("Plus de place libre")[1]


def test_indicators_follow_a_change_committed_elsewhere(app, world):
    with app.app_context():
        referent_id = world["referent_id"]
        referent = db.session.get(User, referent_id)
        before = indicators.build_report(
            indicators.default_period(date.today()), referent_id=referent_id
        )
        _open(make_mentee(referent, remote_ok=True), referent)
        db.session.commit()
        after = indicators.build_report(
            indicators.default_period(date.today()), referent_id=referent_id
        )
        assert after.requests_created == before.requests_created + 1
