"""Configuration: defaults, then the environment; nothing happens at import time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "oui", "on"}


def default_config(instance_path: str) -> dict[str, Any]:
    """Settings used when neither the environment nor the caller says otherwise."""
    sqlite_path = Path(instance_path) / "tutorat.sqlite3"
    return {
        "SECRET_KEY": "dev-only-not-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{sqlite_path}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "WTF_CSRF_TIME_LIMIT": None,
        # WTForms' French messages (Form.Meta.locales) rather than Flask-Babel's.
        "WTF_I18N_ENABLED": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 8025,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_DEFAULT_SENDER": "Tutorat Gers <tutorat@example.org>",
        "BASE_URL": "http://127.0.0.1:8000",
        "MAIL_MAX_ATTEMPTS": 8,
        # SMS (services/sms.py): "spool" writes each SMS as a JSON file in SMS_SPOOL_DIR
        # (development); "brevo" posts it to Brevo's transactional SMS API (SMS_API_URL, SMS_API_KEY).
        "SMS_PROVIDER": "spool",
        "SMS_SPOOL_DIR": str(Path(instance_path) / "sms"),
        "SMS_API_URL": "https://api.brevo.com/v3/transactionalSMS/sms",
        "SMS_API_KEY": "",
        "SMS_SENDER": "CD32Tutorat",
        "SMS_TIMEOUT": 10,
        # The secret part of the address the provider posts replies to (/sms/retour/<secret>);
        # empty: no webhook.
        "SMS_WEBHOOK_TOKEN": "",
        # Letters (services/letters.py): the département's letterhead, a file one may replace (an
        # image: SVG, PNG or JPEG), printed at the top of every letter and explanation.
        "LETTERHEAD_PATH": "",
        # Who signs the tutors' « attestation de bénévolat » (services/attestation.py).
        "ATTESTATION_SIGNATORY": "Le service Insertion du Conseil départemental du Gers",
        # Follow-up delays, in days (PRODUCT.md: reminders, expiry, alerts).
        "REMINDER_DAYS": (3, 7),
        "PROPOSAL_EXPIRY_DAYS": 10,
        "ALERT_OPEN_REQUEST_DAYS": 14,
        "ALERT_NO_MEETING_DAYS": 21,
        # Declined or expired proposals shown in the dashboard's recent changes.
        "RECENT_CHANGES_DAYS": 14,
        # A binôme both accepted and still not confirmed after this long is flagged on the dashboard.
        "ALERT_ACCEPTED_DAYS": 3,
        # « Comment se passe le tutorat ? » after the first meeting, then every this many days.
        "CHECKIN_DAYS": 30,
        # Personal data: anonymise after this long without contact (CNIL social-sector référentiel).
        "RETENTION_DAYS": 730,
        "ACCESS_LOG_RETENTION_DAYS": 365,
        # Sent, cancelled and given-up emails name people and carry links: `flask purge` deletes them.
        "OUTBOX_RETENTION_DAYS": 90,
        # A file uploaded for import (services/imports.py) is kept this long, then `flask purge`
        # deletes it; the largest upload accepted (5 MB of CSV, plus the form around it).
        "IMPORT_RETENTION_DAYS": 30,
        # Tutor applications refused or withdrawn: `flask purge` deletes them after this long
        # (counted from the decision; the person may apply again meanwhile).
        "APPLICATION_RETENTION_DAYS": 365,
        "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
        # Brute force: lock an account for a while after this many failed logins in a row.
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        # Attempt limits (tutorat/services/throttle.py): per client address and per account typed.
        # Shared storage (redis://…) is required in production: memory:// counts per worker.
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": False,
        "LOGIN_RATE_LIMIT": "20 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "10 per 15 minutes",
        "RESET_RATE_LIMIT": "20 per hour",
        "RESET_ACCOUNT_RATE_LIMIT": "5 per hour",
        # The public « Devenir tuteur » form, per address (a library's shared network included).
        "APPLY_RATE_LIMIT": "10 per minute;60 per day",
        # Logged out after this long without activity (shared computers), by role.
        "IDLE_TIMEOUT_STAFF_MINUTES": 30,
        "IDLE_TIMEOUT_PARTICIPANT_MINUTES": 60,
        # Matching: how many candidates the référent sees, rest after a binôme ends.
        "CANDIDATES_SHOWN": 10,
        "TUTOR_REST_DAYS": 14,
        # Argon2id, at or above OWASP's minimum (m=19 MiB, t=2, p=1).
        "ARGON2_TIME_COST": 2,
        "ARGON2_MEMORY_COST": 19456,
        "ARGON2_PARALLELISM": 1,
        # Production (tutorat/production.py): "production" checks the required settings at start-up.
        "TUTORAT_ENV": "development",
        "REMEMBER_COOKIE_SECURE": False,
        # Reverse proxies in front of gunicorn (ProxyFix); None: 1 in production, 0 otherwise.
        "TRUSTED_PROXIES": None,
        # Host names a request may carry (production, or when set); None: the host of BASE_URL.
        "ALLOWED_HOSTS": None,
        # One JSON line per request on stderr; None: on, except under tests.
        "REQUEST_LOG": None,
        # A database that is down or frozen must fail a request fast (a French 503), well before
        # gunicorn's worker timeout: PostgreSQL connection (seconds) and statement (ms) limits,
        # SQLite's wait for a lock (ms), and the health probe's own, shorter limit (seconds).
        "DB_CONNECT_TIMEOUT": 5,
        "DB_STATEMENT_TIMEOUT_MS": 10000,
        "SQLITE_BUSY_TIMEOUT": 10000,
        "HEALTH_TIMEOUT": 0.5,
    }


def from_environment() -> dict[str, Any]:
    """Settings read from environment variables (only those that are set)."""
    env = os.environ
    out: dict[str, Any] = {}
    if env.get("DATABASE_URL"):
        url = env["DATABASE_URL"]
        # Heroku-style URLs name the old driver; we use psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        out["SQLALCHEMY_DATABASE_URI"] = url
    for key in (
        "CONTACT_EMAIL",
        "SECRET_KEY",
        "SMS_PROVIDER",
        "SMS_SPOOL_DIR",
        "SMS_API_URL",
        "SMS_API_KEY",
        "SMS_SENDER",
        "SMS_WEBHOOK_TOKEN",
        "LETTERHEAD_PATH",
        "MAIL_SERVER",
        "MAIL_USERNAME",
        "MAIL_PASSWORD",
        "MAIL_DEFAULT_SENDER",
        "BASE_URL",
        "RATELIMIT_STORAGE_URI",
        "LOGIN_RATE_LIMIT",
        "LOGIN_ACCOUNT_RATE_LIMIT",
        "RESET_RATE_LIMIT",
        "RESET_ACCOUNT_RATE_LIMIT",
        "APPLY_RATE_LIMIT",
    ):
        if env.get(key):
            out[key] = env[key]
    for key in ("IDLE_TIMEOUT_STAFF_MINUTES", "IDLE_TIMEOUT_PARTICIPANT_MINUTES"):
        if env.get(key):
            out[key] = int(env[key])
    if env.get("MAIL_PORT"):
        out["MAIL_PORT"] = int(env["MAIL_PORT"])
    for key in (
        "MAIL_USE_TLS",
        "MAIL_USE_SSL",
        "SESSION_COOKIE_SECURE",
        "REMEMBER_COOKIE_SECURE",
        "REQUEST_LOG",
    ):
        if env.get(key) is not None:
            out[key] = _bool(env.get(key))
    if env.get("TUTORAT_ENV"):
        out["TUTORAT_ENV"] = env["TUTORAT_ENV"]
    if env.get("ALLOWED_HOSTS"):
        out["ALLOWED_HOSTS"] = [h.strip() for h in env["ALLOWED_HOSTS"].split(",") if h.strip()]
    if env.get("OUTBOX_RETENTION_DAYS"):
        out["OUTBOX_RETENTION_DAYS"] = int(env["OUTBOX_RETENTION_DAYS"])
    for key in ("DB_CONNECT_TIMEOUT", "DB_STATEMENT_TIMEOUT_MS", "SQLITE_BUSY_TIMEOUT"):
        if env.get(key):
            out[key] = int(env[key])
    if env.get("HEALTH_TIMEOUT"):
        out["HEALTH_TIMEOUT"] = float(env["HEALTH_TIMEOUT"])
    if env.get("TRUSTED_PROXIES"):
        out["TRUSTED_PROXIES"] = int(env["TRUSTED_PROXIES"])
    return out
