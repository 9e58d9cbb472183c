"""Absolute links for emails, built from the BASE_URL setting alone, never from a request.

Behind a proxy, `url_for` takes the host, port, scheme and path prefix from the request (its `Host`
and, through ProxyFix, `X-Forwarded-*` headers), which a client chooses: a password-reset link built
that way can point at someone else's server. `absolute_url` asks the app's URL map for the path
only, with an adapter of its own that never looks at the request, and puts BASE_URL in front.
Email templates call it as `link(endpoint, **values)`; `url_for` raises there (see
`tutorat.services.notifications`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app


def base_url(app: Flask | None = None) -> str:
    """BASE_URL without its trailing slash: the prefix of every link we send."""
    app = app or current_app
    return str(app.config["BASE_URL"]).rstrip("/")


def absolute_url(endpoint: str, **values: Any) -> str:
    """`BASE_URL` + the path of `endpoint`, whatever the current request (if any) says."""
    app = current_app
    base = base_url(app)
    parts = urlsplit(base)
    # An adapter bound to BASE_URL itself (its host, scheme, path), not to the request's environ.
    adapter = app.url_map.bind(
        parts.netloc or "localhost", script_name="/", url_scheme=parts.scheme or "https"
    )
    path = adapter.build(endpoint, values, force_external=False)
    return base + path


def is_ours(url: str, app: Flask | None = None) -> bool:
    """True for a URL under BASE_URL (the next character is a path, query or end, never '@' or '.')."""
    base = base_url(app)
    return url == base or url.startswith((base + "/", base + "?", base + "#"))


def allowed_hosts(config: dict[str, Any]) -> list[str]:
    """Host names a request may carry: ALLOWED_HOSTS, else the host of BASE_URL."""
    configured = config.get("ALLOWED_HOSTS")
    if isinstance(configured, str):
        configured = [h for h in (part.strip() for part in configured.split(",")) if h]
    if configured:
        return [h.lower() for h in configured]
    host = urlsplit(str(config.get("BASE_URL") or "")).hostname
    return [host.lower()] if host else []


def init_app(app: Flask) -> None:
    app.jinja_env.globals["link"] = absolute_url


__all__ = ["absolute_url", "allowed_hosts", "base_url", "init_app", "is_ours"]
