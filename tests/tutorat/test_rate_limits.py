"""The rate limiter's before-request pass: skipped when nothing is limited on every request only.

Tutorat's own limits are on views (tests/tutorat/test_login_throttle.py). The pass that Flask-Limiter
runs before each request is skipped while no application, default, blueprint or meta limit exists
(tutorat/extensions.py::RouteLimiter); each of them, once set, is enforced as by Flask-Limiter.
"""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask

from tutorat.extensions import RouteLimiter, limiter


def _site(config: dict[str, str] | None = None, *, blueprint_limit: str = ""):
    """A small application with its own limiter: a free page, a limited one, a blueprint's page."""
    app = Flask("limits")
    app.config.update({"RATELIMIT_STORAGE_URI": "memory://", **(config or {})})
    passes: list[str] = []
    site_limiter = RouteLimiter(key_func=lambda: "127.0.0.1", default_limits=[])

    @site_limiter.request_filter
    def note_pass() -> bool:
        # Asked by each pass over a request's limits: the before-request one and a view's own.
        passes.append("asked")
        return False  # no request is exempt

    @app.get("/libre")
    def free():
        return "ok"

    @app.get("/limitee")
    @site_limiter.limit("2 per minute")
    def limited():
        return "ok"

    part = Blueprint("partie", __name__)

    @part.get("/partie")
    def in_blueprint():
        return "ok"

    if blueprint_limit:
        site_limiter.limit(blueprint_limit)(part)
    app.register_blueprint(part)
    site_limiter.init_app(app)
    return app, passes


def _statuses(app: Flask, path: str, times: int = 3) -> list[int]:
    client = app.test_client()
    return [client.get(path).status_code for _ in range(times)]


def test_the_application_limiter_is_ours():
    assert isinstance(limiter, RouteLimiter)


def test_without_request_wide_limits_only_the_views_limits_are_checked():
    app, passes = _site()
    assert _statuses(app, "/libre") == [200, 200, 200]
    assert _statuses(app, "/partie") == [200, 200, 200]
    assert passes == []  # no before-request pass
    assert _statuses(app, "/limitee") == [200, 200, 429]
    assert len(passes) == 3  # the view's own, once per request


@pytest.mark.parametrize(
    "config",
    [{"RATELIMIT_DEFAULT": "2 per minute"}, {"RATELIMIT_APPLICATION": "2 per minute"}],
    ids=["default", "application"],
)
def test_default_and_application_limits_are_enforced_on_every_page(config):
    app, _passes = _site(config)
    assert _statuses(app, "/libre") == [200, 200, 429]
    assert _statuses(app, "/partie")[-1] == 429


def test_a_blueprint_limit_is_enforced_on_its_pages():
    app, _passes = _site(blueprint_limit="2 per minute")
    assert _statuses(app, "/partie") == [200, 200, 429]
    assert _statuses(app, "/libre") == [200, 200, 200]


def test_a_flask_limiter_without_those_attributes_gets_its_pass_on_every_request(monkeypatch):
    """If a Flask-Limiter release renames what RouteLimiter reads, the pass runs as without it."""
    site_limiter = RouteLimiter(key_func=lambda: "127.0.0.1", default_limits=[])
    monkeypatch.setattr(site_limiter, "limit_manager", object(), raising=False)
    assert site_limiter._request_wide_work() is True
