"""Attempts counted per target account (login failures, reset requests), in the limiter's storage.

The per-address limits are Flask-Limiter decorators on the views (`tutorat/views/auth.py`); an
address is easy to change, so the same routes are also limited per *account*: the email typed,
normalised, whether or not an account has it (the answer must not tell). The counters live in
the limiter's storage — Redis in production (`RATELIMIT_STORAGE_URI`, required by
`tutorat/production.py`), so every worker and server shares them — under an HMAC of the
address, never the address itself.

Login and password reset have separate counters: typing someone's address wrongly until their
login is blocked leaves their "mot de passe oublié" route open, and choosing a new password
through the emailed link clears the login counter (`clear`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse

from tutorat.extensions import limiter

# Counter name -> the setting that holds its limit ("10 per 15 minutes").
LIMITS = {
    "login-account": "LOGIN_ACCOUNT_RATE_LIMIT",
    "reset-account": "RESET_ACCOUNT_RATE_LIMIT",
}


@dataclass(frozen=True)
class Blocked:
    """A counter is full: how long until it lets the next attempt through."""

    retry_after: int  # seconds

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


class TooManyAttempts(Exception):
    """A service refused an attempt because this account's counter is full (the page answers 429)."""

    def __init__(self, blocked: Blocked):
        super().__init__(f"retry after {blocked.retry_after} s")
        self.blocked = blocked


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()


def account_key(email: str | None) -> str:
    """The counter's key for an email: an HMAC under SECRET_KEY, so the storage holds no address."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(secret, b"throttle\0" + normalise_email(email).encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _item(name: str) -> RateLimitItem:
    return parse(current_app.config[LIMITS[name]])


def _active() -> bool:
    return bool(limiter.enabled and limiter.initialized and current_app.config["RATELIMIT_ENABLED"])


def check(name: str, email: str | None) -> Blocked | None:
    """None if one more attempt is allowed for this account, else how long to wait."""
    if not _active():
        return None
    item, key = _item(name), account_key(email)
    if limiter.limiter.test(item, name, key):
        return None
    reset_at, _remaining = limiter.limiter.get_window_stats(item, name, key)
    return Blocked(retry_after=max(1, math.ceil(reset_at - time.time())))


def attempt(name: str, email: str | None) -> Blocked | None:
    """Count one attempt for this account; None if it was allowed, else how long to wait."""
    if not _active():
        return None
    item, key = _item(name), account_key(email)
    if limiter.limiter.hit(item, name, key):
        return None
    reset_at, _remaining = limiter.limiter.get_window_stats(item, name, key)
    return Blocked(retry_after=max(1, math.ceil(reset_at - time.time())))


def hit(name: str, email: str | None) -> None:
    """Count one attempt for this account."""
    if _active():
        limiter.limiter.hit(_item(name), name, account_key(email))


def clear(name: str, email: str | None) -> None:
    """Forget this account's attempts (the person proved they hold the mailbox)."""
    if _active():
        limiter.limiter.clear(_item(name), name, account_key(email))
