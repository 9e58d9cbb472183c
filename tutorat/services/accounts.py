"""Accounts: password hashing (argon2id), authentication, creation by staff, emailed links."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, func, select, true

from tutorat.extensions import db
from tutorat.models import AccessAction, MenteeProfile, Role, TutorProfile, User
from tutorat.services import audit, duplicates, emails, throttle
from tutorat.services.errors import DomainError
from tutorat.services.notifications import queue_email

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS = {
    "motdepasse123",
    "motdepasse1234",
    "azertyuiop12",
    "azertyuiop123",
    "123456789012",
    "password1234",
    "password12345",
    "qwertyuiop12",
    "tutoratgers2026",
    "soleil123456",
    "bonjour12345",
    "aaaaaaaaaaaa",
    "000000000000",
    "111111111111",
    "azerty123456",
}


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def check_password_strength(password: str, *context: str | None) -> None:
    """Raise a French DomainError if `password` is too weak (length, common, context words)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères. "
            "Une phrase de plusieurs mots est une bonne idée.",
            field="password",
        )
    if len(password) > 200:
        raise DomainError("Le mot de passe ne doit pas dépasser 200 caractères.", field="password")
    low = password.lower()
    if low in COMMON_PASSWORDS or len(set(low)) < 4:
        raise DomainError(
            "Ce mot de passe est trop courant. Choisissez-en un autre.", field="password"
        )
    for word in context:
        for part in (word or "").lower().replace("@", " ").replace(".", " ").split():
            if len(part) >= 4 and part in low and len(low) - len(part) < 8:
                raise DomainError(
                    "Le mot de passe ne doit pas reprendre votre nom ou votre adresse électronique.",
                    field="password",
                )
    if "tutorat" in low and len(low) < 16:
        raise DomainError(
            "Le mot de passe ne doit pas reprendre le nom du service.", field="password"
        )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        ok = _hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if ok and _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return ok


# A hash computed once, so that an unknown email costs as much time as a wrong password.
_DUMMY_HASH: dict[str, str] = {}


def authenticate(email: str, password: str) -> tuple[User | None, User | None]:
    """(the user if email and password are right, the account concerned if any).

    Same cost and same answer whether the account exists, is locked or the password is wrong;
    after LOGIN_MAX_FAILURES failures in a row the account is locked for LOGIN_LOCK_MINUTES.
    The caller commits (the failure counter must be kept).
    """
    email = (email or "").strip().lower()
    user = (
        db.session.scalars(select(User).where(func.lower(User.email) == email)).first()
        if email
        else None
    )
    if user is None or not user.password_hash:
        if "h" not in _DUMMY_HASH:
            _DUMMY_HASH["h"] = hash_password(secrets.token_hex(8))
        with contextlib.suppress(VerificationError):
            _hasher().verify(_DUMMY_HASH["h"], password or "x")
        return None, user
    now = datetime.now(UTC)
    locked = user.locked_until is not None and user.locked_until > now
    ok = verify_password(user, password or "")
    if ok and not locked and user.active:
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        return user, user
    if not locked:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
            user.failed_logins = 0
    return None, user


# Flask-Login's loader runs on every request of a logged-in user: one statement, built once, that
# reads the account only if it is active and at the session's version (cheaper than `session.get`
# then the checks in Python; the same User object).
_LOGGED_IN_USER = select(User).where(
    User.id == bindparam("uid"),
    User.session_version == bindparam("version"),
    User.active.is_(true()),
)


def load_user(user_id: str) -> User | None:
    """Flask-Login loader: "id:version"; an old version (logged out everywhere) is refused."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    if not (0 < uid < 2**31 and -(2**31) <= version < 2**31):
        return None  # no such account (and no integer overflow in the database)
    return db.session.execute(_LOGGED_IN_USER, {"uid": uid, "version": version}).scalar()


def email_taken(email: str) -> bool:
    return bool(
        db.session.scalar(select(func.count()).where(func.lower(User.email) == email.lower()))
    )


def create_user(
    *,
    role: Role,
    email: str | None,
    first_name: str,
    last_name: str,
    phone: str | None = None,
    password: str | None = None,
    organisation: str | None = None,
    created_by: User | None = None,
    referent: User | None = None,
    capacity: int = 1,
) -> User:
    """Create an account of `role` (with its profile); the caller commits."""
    email = (email or "").strip().lower() or None
    if role != Role.MENTEE and not email:
        raise DomainError(
            "L'adresse électronique est obligatoire pour ce type de compte.", field="email"
        )
    if email and email_taken(email):
        raise DomainError("Un compte existe déjà avec cette adresse électronique.", field="email")
    user = User(
        role=role.value,
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        phone=(phone or "").strip() or None,
        organisation=(organisation or "").strip() or None,
        created_by_id=created_by.id if created_by else None,
        active=True,
        session_version=1,
    )
    if password:
        check_password_strength(password, email, first_name, last_name)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    if role == Role.MENTEE:
        if referent is None or referent.role != Role.REFERENT:
            raise DomainError("Un bénéficiaire doit avoir un référent.", field="referent")
        db.session.add(MenteeProfile(user_id=user.id, referent_id=referent.id))
    elif role == Role.TUTOR:
        if not 1 <= capacity <= 3:
            raise DomainError("Un tuteur peut suivre de 1 à 3 personnes.", field="capacity")
        db.session.add(TutorProfile(user_id=user.id, capacity=capacity, places_used=0))
    db.session.flush()
    return user


def invite(
    *,
    role: Role,
    email: str | None,
    first_name: str,
    last_name: str,
    inviter: User,
    phone: str | None = None,
    organisation: str | None = None,
) -> User:
    """Create someone's account for them and email them a link to choose their password; the
    caller commits.

    A tutor created by the département is not validated yet: it goes through the same checklist as
    an application (`vetting.create_tutor_account`). A mentee is created by their
    référent, who has informed them and records their consent (the person may have no email: the
    référent then acts for them); the person records it again as theirs with their password.
    A mentee who is already followed (same email or phone) is refused (`DuplicateError`).
    """
    if role == Role.MENTEE:
        duplicates.check_new_mentee(
            inviter,
            email=email,
            phone=phone,
            first_name=first_name,
            last_name=last_name,
            referent_id=inviter.id,
        )
    user = create_user(
        role=role,
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        organisation=organisation,
        created_by=inviter,
        referent=inviter if role == Role.MENTEE else None,
    )
    if role == Role.MENTEE:
        record_consent(user, by=inviter)
    if user.email:
        queue_email("invitation", user, token=password_token(user), inviter=inviter)
    return user


def record_consent(user: User, *, by: User, at: datetime | None = None) -> None:
    """Record who gave the person's consent: themselves, or the référent who registered them."""
    user.consent_at, user.consent_by_id = at or datetime.now(UTC), by.id


def log_in(email: str, password: str) -> User | None:
    """Check a login and note it in the access log; the caller commits (the failure counter and
    the last login must be kept either way). The user if the login succeeds, else None.

    Raises `throttle.TooManyAttempts` once this account has had too many attempts.
    """
    blocked = throttle.check("login-account", email)
    if blocked is not None:
        raise throttle.TooManyAttempts(blocked)
    user, account = authenticate(email, password)
    if user is not None:
        audit.note(AccessAction.LOGIN, target="auth.login", actor=user, status=302)
        throttle.clear("login-account", email)
        return user
    throttle.hit("login-account", email)
    audit.note(
        AccessAction.LOGIN_FAILED,
        target=f"compte n° {account.id}" if account else "adresse inconnue",
        status=401,
    )
    return None


def change_password(user: User, current: str, password: str) -> None:
    """The person changes their password, typing the current one; the caller commits."""
    if not verify_password(user, current):
        raise DomainError("Le mot de passe actuel n'est pas le bon.", field="current")
    set_password(user, password)


def choose_emails(user: User, wanted: dict[str, bool]) -> None:
    """The person's choices among the emails they may refuse (`emails.preferences_for`)."""
    for preference in emails.preferences_for(user.role):
        setattr(user, preference.field, bool(wanted.get(preference.field)))


def set_password(user: User, password: str) -> None:
    check_password_strength(password, user.email, user.first_name, user.last_name)
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 1) + 1


def set_password_from_link(user: User, password: str) -> None:
    """The person chose a password through an emailed link (invitation or reset); the caller commits.

    The link proves they hold the mailbox: the account lock (failed logins typed by anyone) is
    lifted, and their consent is recorded as theirs.
    """
    set_password(user, password)
    user.failed_logins = 0
    user.locked_until = None
    throttle.clear("login-account", user.email)
    if user.consent_at is None or user.consent_by_id != user.id:
        record_consent(user, by=user)


def end_all_sessions(user: User) -> None:
    user.session_version = (user.session_version or 1) + 1


# ---- Links sent by email (invitation, password reset) ----

# How long a link stays valid, by kind (seconds).
TOKEN_MAX_AGE = {"invitation": 14 * 24 * 3600, "reset": 2 * 3600}


def _token_serializer(user: User, kind: str) -> URLSafeTimedSerializer:
    """A serializer whose key is bound to the account's current state.

    The key is an HMAC (under SECRET_KEY) of a fingerprint of what using the link changes: the
    password hash, the last login and the email. The link itself carries only the account id and
    the kind, signed: nothing of the hash can be read from it, and once the password is set (or
    the person logs in) the key changes and every earlier link is refused.
    """
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    last_login = int(user.last_login_at.timestamp()) if user.last_login_at else 0
    state = "\0".join(
        (str(user.id), user.password_hash or "", str(last_login), (user.email or "").lower())
    )
    fingerprint = hmac.new(secret, b"tutorat.password-link\0" + state.encode(), hashlib.sha256)
    return URLSafeTimedSerializer(fingerprint.hexdigest(), salt=f"mot-de-passe-{kind}")


def request_password_reset(email: str) -> None:
    """Queue a reset link to the active account with this email, if any; the caller commits.

    Nothing tells the caller whether an account exists: the page says the same either way.
    Raises `throttle.TooManyAttempts` after too many requests for this address (counted whether
    an account has it or not: the answer must not tell).
    """
    blocked = throttle.attempt("reset-account", email)
    if blocked is not None:
        raise throttle.TooManyAttempts(blocked)
    email = (email or "").strip().lower()
    if not email:
        return
    user = db.session.scalars(select(User).where(func.lower(User.email) == email)).first()
    if user is None or not user.active:
        return
    queue_email(
        "password_reset",
        user,
        token=password_token(user, "reset"),
        hours=TOKEN_MAX_AGE["reset"] // 3600,
    )


def password_token(user: User, kind: str = "invitation") -> str:
    """A link token to choose a password: `kind` is "invitation" or "reset"."""
    if kind not in TOKEN_MAX_AGE:
        raise ValueError(f"unknown link kind: {kind}")
    return _token_serializer(user, kind).dumps({"u": user.id, "k": kind})


def user_from_token(token: str) -> User | None:
    """The active account a link token was made for, or None (forged, expired or already used)."""
    # The id and kind are read unverified only to find the key, which the signature then checks.
    _ok, data = URLSafeTimedSerializer("-").loads_unsafe(token)
    if not isinstance(data, dict):
        return None
    kind, raw_id = data.get("k"), data.get("u")
    if kind not in TOKEN_MAX_AGE or not isinstance(raw_id, int) or not 0 < raw_id < 2**31:
        return None
    user = db.session.get(User, raw_id)
    if user is None or not user.active:
        return None
    try:
        checked = _token_serializer(user, kind).loads(token, max_age=TOKEN_MAX_AGE[kind])
    except (SignatureExpired, BadSignature):
        return None
    if checked != {"u": user.id, "k": kind}:
        return None
    return user
