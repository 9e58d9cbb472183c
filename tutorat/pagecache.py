"""Rendered pages kept by each worker, under the data version read from the database first.

A référent reloads the same few pages (a demande's ranked tutors, the dashboard, a binôme, the
indicators) far more often than anyone changes what they show. Each worker keeps the HTML it
rendered for a (page, arguments, user) under the token ``version:data``
(`tutorat.services.versions`), read from the database *before* the page's data. Every write
that a page can show changes that token in the same transaction, whichever worker or machine
made it, so a copy is never served after a change: nothing but the database is shared.

What differs from one request to the next is never in the copy:

- the CSRF token: the page is rendered with a marker, replaced by the request's own token;
- the access log: the beneficiary whose record the page shows is kept with the copy, and each
  view is logged as if the page had been rendered (`tutorat.services.audit`);
- messages (`flash`): a request with a message to show, or whose page flashed one, is rendered
  and not kept;
- the time: a copy is kept at most ``PAGE_CACHE_SECONDS`` (alerts at 14 and 21 days move with
  the clock), and never past midnight in Paris.

The permission check (`get_or_404` through the user's scoped queries) ran when the copy was
rendered; the copy is keyed by the user's id and the data token, and the role guard and the
session check run before the view on every request, so the answer cannot differ.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps

from flask import (
    current_app,
    g,
    has_request_context,
    make_response,
    message_flashed,
    render_template,
    request,
    session,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from tutorat.extensions import db
from tutorat.services import versions
from tutorat.templating import PARIS

# A marker no user input can produce: it is new in each process and never shown to anyone.
_MARKER = f"csrf-{secrets.token_hex(16)}"
_MARKER_BYTES = _MARKER.encode()


@dataclass(frozen=True, slots=True)
class _Entry:
    body: bytes
    mimetype: str
    subject: int | None
    expires: float


class _Store:
    """A bounded LRU of rendered pages, by total size."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple, now: float) -> _Entry | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None or entry.expires <= now:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple, entry: _Entry, max_bytes: int) -> None:
        if len(entry.body) > max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._items[key] = entry
            self._bytes += len(entry.body)
            while self._bytes > max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.body)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    @property
    def size(self) -> int:
        return self._bytes


store = _Store()


def _note_flash(_app, **_extra) -> None:
    if has_request_context():
        request.environ["tutorat.flashed"] = True


message_flashed.connect(_note_flash)


def _seconds_to_midnight(now: datetime) -> float:
    local = now.astimezone(PARIS)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return 86400 - (local - midnight).total_seconds()


def _key(token: object) -> tuple:
    return (
        str(db.engine.url),
        request.endpoint,
        tuple(sorted(request.view_args.items())) if request.view_args else (),
        request.query_string,
        current_user.id,
        token,
        datetime.now(UTC).astimezone(PARIS).date(),
    )


def _with_token(body: bytes) -> bytes:
    if _MARKER_BYTES not in body:
        return body
    return body.replace(_MARKER_BYTES, generate_csrf().encode())


def render_fragment(template: str, **context) -> str:
    """A piece of page to keep across users and sessions: its CSRF tokens are the marker."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    previous = g.get(field)
    setattr(g, field, _MARKER)
    try:
        return render_template(template, **context)
    finally:
        if previous is None:
            g.pop(field)
        else:
            setattr(g, field, previous)


def with_csrf(fragment: str) -> Markup:
    """A kept fragment with this request's CSRF token (or the page's marker, if it is being kept)."""
    return Markup(fragment.replace(_MARKER, generate_csrf()))


def read_only_connection() -> None:
    """Before a kept page on PostgreSQL: no BEGIN, no ROLLBACK (two round trips less).

    These pages only read, and PostgreSQL's READ COMMITTED takes a new snapshot for each
    statement anyway, so each statement on its own (autocommit) reads exactly the same data.
    SQLite keeps its transaction (one snapshot for the whole page).
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if (
        request.method == "GET"
        and getattr(view, "tutorat_page_cache", False)
        and current_app.config["PAGE_CACHE"]
        and db.engine.dialect.name == "postgresql"
    ):
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def cached_page(view):
    """Serve `view` (a GET page of personal data for a logged-in user) from this worker's copy."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        config = current_app.config
        if (
            not config["PAGE_CACHE"]
            or request.method != "GET"
            or not current_user.is_authenticated
            or session.get("_flashes")
            or versions.pending(db.session)
        ):
            return view(*args, **kwargs)
        token = versions.current(db.session, versions.DATA)
        if token is None:  # a database never written through the app: nothing to key on
            return view(*args, **kwargs)
        key = _key(token)
        now = time.monotonic()
        entry = store.get(key, now)
        if entry is not None:
            if entry.subject is not None:
                g.access_subject = entry.subject
            response = current_app.response_class(_with_token(entry.body), mimetype=entry.mimetype)
            response.headers["X-Tutorat-Cache"] = "hit"
            return response

        field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        had_token = field in g
        if not had_token:
            generate_csrf()  # the session holds its raw token, as after a normal render
            setattr(g, field, _MARKER)
        try:
            response = make_response(view(*args, **kwargs))
        finally:
            if not had_token and g.get(field) == _MARKER:
                g.pop(field)
        if response.direct_passthrough or response.is_streamed:
            return response  # not one of ours: a file or a stream is neither kept nor rewritten
        body = response.get_data()
        if (
            not had_token
            and response.status_code == 200
            and response.mimetype == "text/html"
            and not request.environ.get("tutorat.flashed")
            and not versions.pending(db.session)
        ):
            ttl = min(float(config["PAGE_CACHE_SECONDS"]), _seconds_to_midnight(datetime.now(UTC)))
            store.put(
                key,
                _Entry(body, response.mimetype, g.get("access_subject"), now + ttl),
                int(config["PAGE_CACHE_MAX_BYTES"]),
            )
        response.set_data(_with_token(body))
        response.headers["X-Tutorat-Cache"] = "miss"
        return response

    wrapper.tutorat_page_cache = True  # type: ignore[attr-defined]
    return wrapper


__all__ = ["cached_page", "render_fragment", "store", "with_csrf"]
