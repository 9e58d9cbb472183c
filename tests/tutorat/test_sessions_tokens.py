"""Sessions (fresh at login, idle timeout) and emailed links (nothing of the hash, single use)."""

from __future__ import annotations

import base64
import contextlib
import json
import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import Browser, csrf_from
from tests.factories import PASSWORD, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import User
from tutorat.services import accounts

EXPIRED = "Votre session a expiré"


def _people(app) -> dict[str, str]:
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        tutor = make_tutor()
        db.session.commit()
        return {"referent": referent.email, "mentee": mentee.email, "tutor": tutor.email}


def _logged_in(app, email: str) -> Browser:
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


def _idle_for(b: Browser, minutes: float) -> None:
    with b.client.session_transaction() as session:
        session["_seen"] = int(time.time() - minutes * 60)


def test_login_gives_a_new_session_and_a_new_csrf_token(app):
    people = _people(app)
    b = Browser(app.test_client())
    before_token = csrf_from(b.get("/connexion").get_data(as_text=True))
    # Something planted in the session before login (session fixation) must not survive it.
    with b.client.session_transaction() as session:
        session["_sid"] = "choisi-par-un-attaquant"
        session["planted"] = "oui"
        raw_before = session["csrf_token"]
    r = b.client.post(
        "/connexion",
        data={"email": people["referent"], "password": PASSWORD, "csrf_token": before_token},
    )
    assert r.status_code == 302
    with b.client.session_transaction() as session:
        assert "planted" not in session
        assert session["_sid"] not in {"choisi-par-un-attaquant", ""}
        assert session.get("csrf_token") != raw_before
    after_token = csrf_from(b.client.get("/referent/").get_data(as_text=True))
    assert after_token != before_token
    with b.client.session_transaction() as session:
        assert session["csrf_token"] != raw_before
    # The token from before the login no longer works; the new one does.
    stale = b.client.post("/deconnexion", data={"csrf_token": before_token})
    assert stale.status_code == 400
    assert b.client.get("/referent/").status_code == 200
    assert b.client.post("/deconnexion", data={"csrf_token": after_token}).status_code == 302
    # Each login gets its own session id.
    first = _logged_in(app, people["referent"])
    second = _logged_in(app, people["referent"])
    with first.client.session_transaction() as s1, second.client.session_transaction() as s2:
        assert s1["_sid"] != s2["_sid"]


@pytest.mark.parametrize(
    ("who", "home", "limit"),
    [("referent", "/referent/", 30), ("mentee", "/beneficiaire/", 60), ("tutor", "/tuteur/", 60)],
)
def test_idle_session_is_logged_out(app, who, home, limit):
    people = _people(app)
    b = _logged_in(app, people[who])
    # Just under the limit: still in, and the use refreshes the stamp.
    _idle_for(b, limit - 1)
    assert b.client.get(home).status_code == 200
    with b.client.session_transaction() as session:
        assert time.time() - session["_seen"] < 5
    # Over the limit: logged out, sent to the login page with a French message.
    _idle_for(b, limit + 1)
    r = b.client.get(home)
    assert r.status_code == 302 and "/connexion" in r.headers["Location"]
    page = b.client.get(r.headers["Location"]).get_data(as_text=True)
    assert EXPIRED in page and f"{limit} minutes" in page
    with b.client.session_transaction() as session:
        assert "_user_id" not in session
    assert b.client.get(home).status_code == 302  # still logged out
    # The home page no longer shows the name either.
    assert "Se déconnecter" not in b.client.get("/").get_data(as_text=True)


def test_idle_timeouts_are_settings(app):
    people = _people(app)
    saved = app.config["IDLE_TIMEOUT_STAFF_MINUTES"]
    app.config["IDLE_TIMEOUT_STAFF_MINUTES"] = 5
    try:
        b = _logged_in(app, people["referent"])
        _idle_for(b, 6)
        assert b.client.get("/referent/").status_code == 302
        # One minute is singular in the message.
        app.config["IDLE_TIMEOUT_STAFF_MINUTES"] = 1
        b = _logged_in(app, people["referent"])
        _idle_for(b, 2)
        r = b.client.get("/referent/")
        page = b.client.get(r.headers["Location"]).get_data(as_text=True)
        assert "après 1 minute sans activité" in page
    finally:
        app.config["IDLE_TIMEOUT_STAFF_MINUTES"] = saved


def test_a_post_after_the_timeout_changes_nothing(app):
    people = _people(app)
    b = _logged_in(app, people["tutor"])
    token = csrf_from(b.client.get("/compte/").get_data(as_text=True))
    _idle_for(b, 61)
    r = b.client.post("/compte/effacement", data={"csrf_token": token})
    assert r.status_code == 302 and "/connexion" in r.headers["Location"]
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == people["tutor"])).one()
        assert user.erasure_requested_at is None


def _decoded_parts(token: str) -> list[str]:
    """Every part of a link token, base64-decoded where it can be, and the payload as JSON."""
    parts = [token]
    for segment in token.split("."):
        padded = segment + "=" * (-len(segment) % 4)
        with contextlib.suppress(ValueError):
            parts.append(base64.urlsafe_b64decode(padded).decode("latin-1"))
    _ok, payload = URLSafeTimedSerializer("-").loads_unsafe(token)
    parts.append(json.dumps(payload))
    return parts


def test_link_tokens_carry_nothing_of_the_password_hash(ctx):
    user = make_tutor()
    db.session.commit()
    secret = user.password_hash
    assert secret
    for kind in ("invitation", "reset"):
        token = accounts.password_token(user, kind)
        decoded = _decoded_parts(token)
        # No 6 characters in a row of the hash (its salt and digest included) appear anywhere.
        for i in range(len(secret) - 5):
            piece = secret[i : i + 6]
            assert not any(piece in part for part in decoded), (kind, piece)
        assert accounts.user_from_token(token) == user


def test_a_used_link_is_refused_and_a_login_ends_earlier_links(app):
    with app.app_context():
        referent = make_referent()
        invited = make_mentee(referent, password=None)
        tutor = make_tutor()
        db.session.commit()
        invitation = f"/mot-de-passe/{accounts.password_token(invited)}"
        reset = f"/mot-de-passe/{accounts.password_token(tutor, 'reset')}"
        tutor_email = tutor.email
        forged = accounts.password_token(invited).replace(
            accounts.password_token(invited).split(".")[0],
            base64.urlsafe_b64encode(json.dumps({"u": tutor.id, "k": "reset"}).encode())
            .decode()
            .rstrip("="),
        )
    b = Browser(app.test_client())
    assert b.client.get(invitation).status_code == 200
    new = "Trois-mots-de-passe-solides-42"
    done = b.post(invitation, {"password": new, "confirm": new, "consent": "y"}, page=invitation)
    assert done.status_code == 302
    # Logged in at once: no second login after choosing the password (issue 15 item 8).
    assert b.client.get("/beneficiaire/").status_code == 200
    used = b.client.get(invitation)  # used: a page that says so and offers to log in
    assert used.status_code == 410
    assert "déjà servi" in used.get_data(as_text=True)
    assert "/connexion" in used.get_data(as_text=True)
    assert b.client.get(f"/mot-de-passe/{forged.split('/')[-1]}").status_code == 410
    assert b.client.get(reset).status_code == 200
    _logged_in(app, tutor_email)
    assert b.client.get(reset).status_code == 410  # a login since the link was sent
    assert b.client.get("/mot-de-passe/pas-un-jeton").status_code == 410
