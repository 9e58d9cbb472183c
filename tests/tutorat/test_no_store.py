"""No copy of a page for a logged-in user may be kept by a browser or a proxy (Cache-Control)."""

from __future__ import annotations

import pytest

from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat.extensions import db

PUBLIC_PAGES = ["/", "/a-propos", "/accessibilite", "/donnees-personnelles", "/algorithme"]
OWN_PAGES = {
    "mentee": ["/beneficiaire/", "/compte/", "/compte/mes-donnees", "/compte/mes-donnees.json"],
    "tutor": ["/tuteur/", "/tuteur/profil", "/compte/"],
    "referent": ["/referent/", "/referent/beneficiaires/nouveau", "/compte/"],
    "admin": ["/admin/", "/admin/comptes", "/compte/"],
}


@pytest.mark.parametrize("role", sorted(OWN_PAGES))
def test_every_page_for_a_logged_in_user_is_no_store(app, role):
    with app.app_context():
        referent = make_referent()
        user = {
            "mentee": lambda: make_mentee(referent),
            "tutor": make_tutor,
            "referent": lambda: referent,
            "admin": make_admin,
        }[role]()
        db.session.commit()
        email, first_name = user.email, user.first_name
    b = Browser(app.test_client())
    login = b.login(email, PASSWORD)
    assert login.headers["Cache-Control"] == "no-store"
    for path in [*PUBLIC_PAGES, *OWN_PAGES[role], "/page-qui-n-existe-pas"]:
        r = b.client.get(path)
        assert r.status_code in (200, 404), path
        assert r.headers.get("Cache-Control") == "no-store", path
    # The home page shows the name: it is the page that used to be cacheable.
    home = b.client.get("/")
    assert first_name in home.get_data(as_text=True)
    assert home.headers["Cache-Control"] == "no-store"


def test_anonymous_home_page_may_be_cached_but_varies_with_the_cookie(app):
    r = app.test_client().get("/")
    assert r.status_code == 200
    assert "no-store" not in r.headers.get("Cache-Control", "")
    assert "Cookie" in r.headers.get("Vary", "")
    # Other pages stay no-store, static files do not need it.
    assert app.test_client().get("/connexion").headers["Cache-Control"] == "no-store"
    static = app.test_client().get("/static/favicon.svg")
    static.close()  # a file response: close it
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
