"""The rendered pages each worker keeps (tutorat.pagecache): never stale, never someone else's.

A copy is served only to the same user, for the same page and the same data version; each copy
carries the requester's own CSRF token, and each view of a record is still written to the access
log. Any change committed by anyone (another worker, the CLI, another test client) is seen at
once by the next page.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser, csrf_from
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat import pagecache
from tutorat.extensions import db
from tutorat.models import AccessLog, Meeting, Pair, User
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.services.db import declare_write_intent


@pytest.fixture
def world(app):
    with app.app_context():
        referent = make_referent()
        other = make_referent()
        admin = make_admin()
        mentee = make_mentee(referent, remote_ok=True, first_name="Aurore", last_name="Lasserre")
        tutor = make_tutor(remote_ok=True, capacity=3, first_name="Bruno", last_name="Dupouy")
        demande = request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        second = make_mentee(referent, remote_ok=True)
        other_request = request_service.open_request(
            second, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.flush()
        pair = pair_service.propose(other_request, tutor.id, actor=referent)
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        pair_service.answer(pair, side="mentee", accept=True, actor=referent)
        pair_service.confirm(pair, actor=referent)
        db.session.commit()
        return {
            "referent": referent.email,
            "other": other.email,
            "admin": admin.email,
            "mentee_id": mentee.id,
            "tutor_id": tutor.id,
            "request": demande.id,
            "pair": pair.id,
            "second_id": second.id,
        }


def _logged(app, email: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(email, PASSWORD).status_code == 302
    return browser


def _log_meeting(pair_id: int, place: str = "") -> None:
    pair = db.session.get(Pair, pair_id)
    db.session.add(
        Meeting(
            pair_id=pair.id,
            logged_by_id=pair.tutor_id,
            date=date.today(),
            duration_minutes=40,
            mode="video",
            place=place,
        )
    )


def _get(browser: Browser, url: str):
    response = browser.get(url)
    assert response.status_code == 200, url
    return response, response.headers.get("X-Tutorat-Cache")


def test_second_view_is_a_copy_with_the_requesters_own_csrf_token(app, world):
    url = f"/referent/demandes/{world['request']}"
    first_session = _logged(app, world["referent"])
    second_session = _logged(app, world["referent"])  # the same person on another device
    first, state = _get(first_session, url)
    assert state == "miss"
    again, state = _get(first_session, url)
    assert state == "hit"
    assert again.get_data() == first.get_data()  # same session, same token
    other, state = _get(second_session, url)
    assert state == "hit"
    first_token = csrf_from(first.get_data(as_text=True))
    other_token = csrf_from(other.get_data(as_text=True))
    assert other_token != first_token
    assert "csrf-" not in other.get_data(as_text=True)  # the marker never leaves the server
    # The token of the copy is valid for the session that received it: the proposal goes through.
    response = second_session.client.post(
        f"/referent/demandes/{world['request']}/proposer",
        data={"csrf_token": other_token, "tutor_id": world["tutor_id"]},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    # The first session's token does not work for the second session.
    refused = second_session.client.post(
        f"/referent/demandes/{world['request']}/proposer",
        data={"csrf_token": "x" + first_token[1:], "tutor_id": world["tutor_id"]},
    )
    assert refused.status_code == 400


def test_a_copy_is_never_served_to_someone_who_may_not_see_the_page(app, world):
    owner = _logged(app, world["referent"])
    for url in (f"/referent/demandes/{world['request']}", f"/referent/binomes/{world['pair']}"):
        _get(owner, url)
        assert _get(owner, url)[1] == "hit"
        stranger = _logged(app, world["other"])
        assert stranger.client.get(url).status_code == 404
        admin = _logged(app, world["admin"])
        assert admin.client.get(url).status_code == 403
        assert app.test_client().get(url).status_code == 302  # not logged in: to the login page


def test_each_view_of_a_copy_is_in_the_access_log(app, world):
    browser = _logged(app, world["referent"])
    url = f"/referent/binomes/{world['pair']}"
    states = [_get(browser, url)[1] for _ in range(3)]
    assert states == ["miss", "hit", "hit"]
    with app.app_context():
        lines = db.session.scalars(
            select(AccessLog).where(
                AccessLog.subject_id == world["second_id"], AccessLog.action == "voir"
            )
        ).all()
        assert len(lines) == 3
        assert {line.target for line in lines} == {"referent.pair"}
        assert {line.actor_role for line in lines} == {"referent"}


@pytest.mark.parametrize(
    "change",
    ["meeting", "rename_mentee", "tutor_full", "weights"],
)
def test_a_change_committed_elsewhere_is_seen_by_the_next_view(app, world, change):
    browser = _logged(app, world["referent"])
    if change == "meeting":
        url, expected = f"/referent/binomes/{world['pair']}", "Rencontre notée pour un test"
    elif change == "rename_mentee":
        url, expected = f"/referent/demandes/{world['request']}", "Aurore Nouveau-Nom"
    elif change == "tutor_full":
        url, expected = f"/referent/demandes/{world['request']}", None
    else:
        url, expected = f"/referent/demandes/{world['request']}", None
    before, _ = _get(browser, url)
    assert _get(browser, url)[1] == "hit"
    with app.app_context():  # another "worker": its own session, committed
        if change == "meeting":
            _log_meeting(world["pair"], place="Rencontre notée pour un test")
        elif change == "rename_mentee":
            db.session.get(User, world["mentee_id"]).last_name = "Nouveau-Nom"
        elif change == "tutor_full":
            tutor = db.session.get(User, world["tutor_id"])
            tutor.tutor_profile.places_used = tutor.tutor_profile.capacity
        db.session.commit()
    if change == "weights":
        admin = _logged(app, world["admin"])
        response = admin.post(
            "/admin/poids",
            {"distance": 10, "sector": 10, "availability": 10, "experience": 70},
            page="/admin/poids",
        )
        assert response.status_code == 302
    after, state = _get(browser, url)
    assert state == "miss"
    text = after.get_data(as_text=True)
    if expected:
        assert expected in text and expected not in before.get_data(as_text=True)
    elif change == "tutor_full":
        assert "Bruno Dupouy" in before.get_data(as_text=True)
        assert "Bruno Dupouy" not in text
    else:
        assert after.get_data() != before.get_data()
    assert _get(browser, url)[1] == "hit"


def test_a_page_with_a_message_is_shown_once_and_not_kept(app, world):
    browser = _logged(app, world["referent"])
    url = f"/referent/demandes/{world['request']}"
    _get(browser, url)
    response = browser.post(
        f"/referent/demandes/{world['request']}/proposer", {"tutor_id": world["tutor_id"]}
    )
    assert response.status_code == 302
    pair_url = response.headers["Location"]
    message = "La proposition est envoyée au tuteur et au bénéficiaire."
    shown, state = _get(browser, pair_url)
    assert message in shown.get_data(as_text=True)
    assert state is None  # a message to show: rendered, not looked up, not kept
    again, state = _get(browser, pair_url)
    assert message not in again.get_data(as_text=True)
    assert state == "miss"  # the page with the message was not kept
    assert _get(browser, pair_url)[1] == "hit"


def test_an_unknown_filter_is_a_400_and_not_kept(app, world):
    browser = _logged(app, world["referent"])
    for _ in range(2):
        response = browser.client.get("/referent/?statut=inconnu")
        assert response.status_code == 400
        assert response.headers["X-Tutorat-Cache"] == "miss"
    _get(browser, "/referent/?statut=alertes")
    assert _get(browser, "/referent/?statut=alertes")[1] == "hit"
    assert _get(browser, "/referent/?statut=actifs")[1] == "miss"  # each filter its own copy


def test_logout_and_deactivation_end_the_copies_too(app, world):
    browser = _logged(app, world["referent"])
    url = "/referent/"
    _get(browser, url)
    assert _get(browser, url)[1] == "hit"
    browser.post("/deconnexion", page=url)
    assert browser.client.get(url).status_code == 302
    browser = _logged(app, world["referent"])
    assert _get(browser, url)[1] == "miss"  # logging in wrote the account: a new version
    with app.app_context():
        db.session.scalar(select(User).where(User.email == world["referent"])).active = False
        db.session.commit()
    assert browser.client.get(url).status_code == 302


def test_copies_expire_and_can_be_switched_off(app, world, monkeypatch):
    browser = _logged(app, world["referent"])
    url = "/indicateurs/"
    _get(browser, url)
    assert _get(browser, url)[1] == "hit"
    clock = pagecache.time.monotonic
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: clock() + 61)  # a minute later
    assert _get(browser, url)[1] == "miss"
    assert _get(browser, url)[1] == "hit"
    monkeypatch.undo()
    app.config["PAGE_CACHE_SECONDS"] = 0
    try:
        pagecache.store.clear()
        assert _get(browser, url)[1] == "miss"
        assert _get(browser, url)[1] == "miss"
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 60
    app.config["PAGE_CACHE"] = False
    try:
        assert _get(browser, url)[1] is None
    finally:
        app.config["PAGE_CACHE"] = True


def test_the_cache_is_bounded_in_bytes(app, world):
    app.config["PAGE_CACHE_MAX_BYTES"] = 200_000
    try:
        pagecache.store.clear()
        browser = _logged(app, world["referent"])
        for section in ("", "alertes", "demandes", "propositions", "actifs"):
            for territory in ("", "32013"):
                browser.client.get(f"/referent/?statut={section}&x={territory}")
        browser.get("/indicateurs/")
        assert 0 < pagecache.store.size <= 200_000
    finally:
        app.config["PAGE_CACHE_MAX_BYTES"] = 32 * 1024 * 1024


def test_versions_ignore_the_login_bookkeeping(app, world):
    """A failed login (counter, lock) changes no page: copies stay valid."""
    from tutorat.services import versions

    with app.app_context():
        before = versions.read(db.session)[versions.DATA]
    response = app.test_client().get("/connexion")
    client = app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    client.post(
        "/connexion",
        data={"csrf_token": csrf_from(page), "email": world["other"], "password": "mauvais-mot"},
    )
    assert response.status_code == 200
    with app.app_context():
        after = versions.read(db.session)[versions.DATA]
        failures = db.session.scalar(
            select(func.max(User.failed_logins)).where(User.email == world["other"])
        )
    assert failures == 1
    assert after == before


def test_the_candidate_list_is_kept_until_the_tutors_change(app, world, monkeypatch):
    """The ranked list (HTML) survives writes elsewhere, follows the tutors, carries each token."""
    rendered = []
    real = pagecache.render_fragment

    def counting(template, **context):
        rendered.append(template)
        return real(template, **context)

    monkeypatch.setattr(pagecache, "render_fragment", counting)
    url = f"/referent/demandes/{world['request']}"
    app.config["PAGE_CACHE"] = False  # every view renders the page: only the list is kept
    try:
        first = _logged(app, world["referent"])
        second = _logged(app, world["referent"])
        page_one = _get(first, url)[0].get_data(as_text=True)
        assert len(rendered) == 1 and "Bruno Dupouy" in page_one
        with app.app_context():  # a meeting logged elsewhere: not the tutors' business
            _log_meeting(world["pair"])
            db.session.commit()
        page_two = _get(second, url)[0].get_data(as_text=True)
        assert len(rendered) == 1
        token_one, token_two = csrf_from(page_one), csrf_from(page_two)
        assert token_one != token_two and "csrf-" not in page_two
        with app.app_context():  # the tutor's name is in the list: a new version of the tutors
            db.session.get(User, world["tutor_id"]).first_name = "Bernard"
            db.session.commit()
        page_three = _get(first, url)[0].get_data(as_text=True)
        assert len(rendered) == 2
        assert "Bernard Dupouy" in page_three and "Bruno Dupouy" not in page_three
        response = second.client.post(
            f"/referent/demandes/{world['request']}/proposer",
            data={"csrf_token": token_two, "tutor_id": world["tutor_id"]},
        )
        assert response.status_code == 302
    finally:
        app.config["PAGE_CACHE"] = True


def test_concurrent_readers_never_go_back_to_older_data(app, world):
    """Readers in threads while meetings are committed: never an older page than one already seen.

    The version is read before the data, so a copy can only be newer than its label; once a reader
    has seen meeting k, no copy can show it less. After the last write, everyone sees it all.
    """
    import re
    import threading
    import time

    url = f"/referent/binomes/{world['pair']}"
    readers = [_logged(app, world["referent"]) for _ in range(4)]
    for browser in readers:
        _get(browser, url)
    writes, done = 12, threading.Event()
    seen: list[list[int]] = [[] for _ in readers]
    failures: list[str] = []

    def read(i: int) -> None:
        while not done.is_set():
            response = readers[i].client.get(url)
            if response.status_code != 200:
                failures.append(f"{response.status_code}")
                return
            places = re.findall(r"Lieu-(\d+)", response.get_data(as_text=True))
            seen[i].append(max(map(int, places), default=0))

    def write() -> None:
        # As a POST does: on SQLite, take the write lock up front (BEGIN IMMEDIATE).
        declare_write_intent(True)
        try:
            for k in range(1, writes + 1):
                with app.app_context():
                    _log_meeting(world["pair"], place=f"Lieu-{k:02d}")
                    db.session.commit()
                    db.session.remove()
                time.sleep(0.02)
        except Exception as error:  # pragma: no cover - shown by the assertion below
            failures.append(f"écriture : {error!r}")
        finally:
            done.set()

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(readers))]
    threads.append(threading.Thread(target=write))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    for history in seen:
        assert history, "a reader saw nothing"
        assert history == sorted(history), history  # never back to an older copy
    for browser in readers:
        final = browser.client.get(url).get_data(as_text=True)
        assert f"Lieu-{writes:02d}" in final
