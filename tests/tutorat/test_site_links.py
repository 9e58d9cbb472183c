"""The addresses base.html builds once per application (templating.SiteLinks) are url_for's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import url_for

from tests.factories import PASSWORD, make_referent
from tutorat.extensions import db
from tutorat.models import Role
from tutorat.templating import MENUS, SITE_ENDPOINTS, SITE_STATIC
from tutorat.views.referent import _PAIR_LINKS, pair_links

PAGES = [
    "/referent/",
    "/referent/binomes/12",
    "/a b/é?x=1&y=2#z",
    "/x+y%20z/~!$'()*,;:@",
    "",
    None,
]


@pytest.mark.parametrize("root", ["", "/tutorat"])
def test_site_links_are_the_addresses_url_for_builds(app, root):
    site_links = app.jinja_env.globals["site_links"]
    standard = app.jinja_env.globals["url_for"]
    with app.test_request_context("/", base_url=f"http://localhost{root}"):
        links = site_links(standard)
        assert links is site_links(standard)  # built once per script root
        for endpoint in SITE_ENDPOINTS:
            assert links.page[endpoint] == url_for(endpoint)
            assert links.page[endpoint].startswith(f"{root}/")
        for name in SITE_STATIC:
            assert links.static[name] == url_for("static", filename=name)
        for role, items in MENUS.items():
            assert links.menu[role] == tuple((e, url_for(e), text) for e, text in items)
        for page in PAGES:
            assert links.report_problem(page) == url_for("main.report_problem", page=page)
    # Another script root gets its own addresses.
    other = "/autre" if root else "/tutorat"
    with app.test_request_context("/", base_url=f"http://localhost{other}"):
        assert site_links(standard).page["main.index"] == f"{other}/"


def test_the_menu_is_the_role_s_and_marks_the_current_page(app, browser):
    with app.app_context():
        email = make_referent().email
        db.session.commit()
    assert browser.login(email, PASSWORD).status_code == 302
    html = browser.get("/referent/beneficiaires").get_data(as_text=True)
    with app.test_request_context("/"):
        for endpoint, text in MENUS[Role.REFERENT]:
            current = ' aria-current="page"' if endpoint == "referent.mentees" else ""
            assert f'<li><a href="{url_for(endpoint)}"{current}>{text}</a></li>' in html


@pytest.mark.parametrize("root", ["", "/tutorat"])
def test_the_pair_page_links_are_the_addresses_url_for_builds(app, root):
    """The binôme page's links with one id, built once per script root (views/referent.py)."""
    pair = SimpleNamespace(id=12, request_id=345, mentee_id=6789)
    with app.test_request_context("/", base_url=f"http://localhost{root}"):
        for _ in range(2):  # built, then from the parts kept
            links = pair_links(pair)
            assert set(links) == {name for name, *_ in _PAIR_LINKS}
            for name, endpoint, key, field in _PAIR_LINKS:
                values = {key: getattr(pair, field)}
                assert links[name] == url_for(endpoint, **values), name
                assert links[name].startswith(f"{root}/referent/")
