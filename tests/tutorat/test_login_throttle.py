"""Login and password-reset attempts: limited per client address and per account typed, in Redis."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import func, select

from tests.conftest import REDIS_TEST_URL, Browser
from tests.factories import PASSWORD, make_tutor
from tutorat.extensions import db, limiter
from tutorat.models import OutboxEmail, User
from tutorat.services import accounts

ACCOUNT_BLOCKED = "Trop de tentatives de connexion avec cette adresse électronique"
RESET_ACCOUNT_BLOCKED = "Trop de demandes de nouveau mot de passe pour cette adresse électronique"


@pytest.fixture
def limits(app):
    """Lower some limits for one test; the counters start empty and are emptied afterwards."""
    saved = dict(app.config)
    limiter.reset()

    def set_limits(**values):
        app.config.update(values)

    yield set_limits
    for key in (
        "LOGIN_RATE_LIMIT",
        "LOGIN_ACCOUNT_RATE_LIMIT",
        "RESET_RATE_LIMIT",
        "RESET_ACCOUNT_RATE_LIMIT",
    ):
        app.config[key] = saved[key]
    limiter.reset()


def _tutor(app) -> str:
    with app.app_context():
        tutor = make_tutor()
        db.session.commit()
        return tutor.email


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _login(app, email: str, password: str, address: str):
    return Browser(app.test_client()).post(
        "/connexion", {"email": email, "password": password}, page="/connexion", **_from(address)
    )


def _reset(app, email: str, address: str):
    return Browser(app.test_client()).post(
        "/mot-de-passe-oublie", {"email": email}, page="/mot-de-passe-oublie", **_from(address)
    )


def _outbox(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxEmail))


def test_login_is_limited_per_account_whatever_the_address(app, limits):
    limits(LOGIN_ACCOUNT_RATE_LIMIT="3 per 15 minutes")
    email = _tutor(app)
    # Three wrong passwords, each from another address (addresses are easy to change).
    for i in range(3):
        assert _login(app, email, "mauvais mot de passe", f"203.0.113.{i}").status_code == 401
    # The fourth try is refused before the password is even checked, even the right one.
    blocked = _login(app, f"  {email.upper()} ", PASSWORD, "198.51.100.7")
    page = blocked.get_data(as_text=True)
    assert blocked.status_code == 429
    assert ACCOUNT_BLOCKED in page and "Mot de passe oublié" in page
    assert 60 <= int(blocked.headers["Retry-After"]) <= 15 * 60
    # Another account, from the same address, is not concerned.
    other = _tutor(app)
    assert _login(app, other, PASSWORD, "198.51.100.7").status_code == 302
    # An address no account has is counted the same way: the answer does not tell.
    for i in range(3):
        assert _login(app, "personne@nulle-part.fr", "x", f"203.0.113.{i}").status_code == 401
    unknown = _login(app, "personne@nulle-part.fr", "x", "198.51.100.8")
    assert unknown.status_code == 429 and ACCOUNT_BLOCKED in unknown.get_data(as_text=True)


def test_a_success_clears_the_account_counter(app, limits):
    limits(LOGIN_ACCOUNT_RATE_LIMIT="3 per 15 minutes")
    email = _tutor(app)
    for _ in range(2):
        assert _login(app, email, "mauvais mot de passe", "203.0.113.1").status_code == 401
    assert _login(app, email, PASSWORD, "203.0.113.1").status_code == 302
    for _ in range(2):
        assert _login(app, email, "mauvais mot de passe", "203.0.113.1").status_code == 401
    assert _login(app, email, PASSWORD, "203.0.113.1").status_code == 302


def test_login_is_limited_per_address_in_french(app, limits):
    limits(LOGIN_RATE_LIMIT="3 per minute")
    for i in range(3):
        assert _login(app, f"x{i}@example.org", "x", "203.0.113.50").status_code == 401
    refused = _login(app, "y@example.org", "x", "203.0.113.50")
    assert refused.status_code == 429
    assert "Trop de tentatives de connexion depuis votre réseau" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) >= 1
    assert _login(app, "y@example.org", "x", "203.0.113.51").status_code == 401


def test_someone_typing_my_address_leaves_me_the_reset_route(app, limits):
    # An attacker on the same network (one address for the whole office) types the victim's
    # address with wrong passwords until both the account lock and the account counter are full.
    limits(LOGIN_ACCOUNT_RATE_LIMIT="5 per 15 minutes", RESET_RATE_LIMIT="20 per hour")
    email = _tutor(app)
    office = "192.0.2.10"
    statuses = [_login(app, email, "devine", office).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert _login(app, email, PASSWORD, office).status_code == 429
    # The victim, from the same office, can still ask for a new password…
    assert _reset(app, email, office).status_code == 302
    assert _outbox(app) == 1
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        path = f"/mot-de-passe/{accounts.password_token(user, 'reset')}"
    new = "Trois-mots-de-passe-solides-42"
    b = Browser(app.test_client())
    done = b.post(path, {"password": new, "confirm": new, "consent": "y"}, page=path)
    assert done.status_code == 302
    # …and log in at once: the link proved they hold the mailbox (lock and counter lifted).
    assert _login(app, email, new, office).status_code == 302


def test_reset_is_limited_per_account_without_telling_whether_it_exists(app, limits):
    limits(RESET_ACCOUNT_RATE_LIMIT="2 per hour")
    email = _tutor(app)
    answers = {}
    for address in (email, "personne@nulle-part.fr"):
        assert [_reset(app, address, f"203.0.113.{i}").status_code for i in range(2)] == [302] * 2
        refused = _reset(app, address.upper(), "203.0.113.9")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 60
        page = refused.get_data(as_text=True)
        assert RESET_ACCOUNT_BLOCKED in page
        answers[address] = page.split('role="alert"', 1)[1].split("</", 1)[0]
    # The same words for an account that exists and one that does not.
    assert answers[email] == answers["personne@nulle-part.fr"]
    assert _outbox(app) == 2  # no third email to the real account


def test_reset_is_limited_per_address(app, limits):
    limits(RESET_RATE_LIMIT="3 per hour")
    for i in range(3):
        assert _reset(app, f"a{i}@example.org", "203.0.113.70").status_code == 302
    refused = _reset(app, "b@example.org", "203.0.113.70")
    assert refused.status_code == 429
    assert "Trop de demandes de nouveau mot de passe depuis votre réseau" in refused.get_data(
        as_text=True
    )
    assert _reset(app, "b@example.org", "203.0.113.71").status_code == 302


def test_counters_are_in_the_shared_redis_without_the_address(app, limits):
    if app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        pytest.skip("Redis injoignable : compteurs en mémoire pour cette session")
    assert type(limiter.storage).__name__.startswith("Redis")
    limits(LOGIN_ACCOUNT_RATE_LIMIT="3 per 15 minutes")
    email = _tutor(app)
    assert _login(app, email, "mauvais mot de passe", "203.0.113.1").status_code == 401
    assert _reset(app, email, "203.0.113.1").status_code == 302
    client = redis.Redis.from_url(REDIS_TEST_URL)
    keys = [k.decode() for k in client.keys("*")]
    assert any("login-account" in k for k in keys) and any("reset-account" in k for k in keys)
    local = email.split("@")[0]
    assert not any(local in k or "@" in k for k in keys), keys
