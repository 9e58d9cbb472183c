"""Log in, log out, set a password from an invitation link."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from tutorat.extensions import db, limiter
from tutorat.forms import ForgotPasswordForm, LoginForm, SetPasswordForm
from tutorat.models import User
from tutorat.services import accounts, audit
from tutorat.services.errors import DomainError
from tutorat.services.notifications import queue_email
from tutorat.views._helpers import show_error

bp = Blueprint("auth", __name__)

# How long a link sent by email stays valid, by kind.
TOKEN_MAX_AGE = {"invitation": 14 * 24 * 3600, "reset": 2 * 3600}
RESET_SENT = (
    "Si un compte existe avec cette adresse, un courriel vient de lui être envoyé avec un lien "
    "pour choisir un nouveau mot de passe. Pensez à regarder dans les indésirables."
)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("main.my_space")


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.my_space"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user, account = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            audit.note("connexion", target="auth.login", actor=user, status=302)
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        audit.note(
            "echec_connexion",
            target=f"compte n° {account.id}" if account else "adresse inconnue",
            status=401,
        )
        db.session.commit()  # the failure counter
        flash(
            "Adresse électronique ou mot de passe incorrect. Après plusieurs erreurs, le compte est "
            "bloqué pendant quelques minutes.",
            "error",
        )
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/deconnexion")
def logout():
    if current_user.is_authenticated:
        # Ends every session of the account, not only this browser's cookie.
        accounts.end_all_sessions(current_user)
        db.session.commit()
        logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("main.index"))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="definir-mot-de-passe")


def password_token(user: User, kind: str = "invitation") -> str:
    # Bound to the current hash: once the password is set, the link no longer works.
    return _serializer().dumps({"u": user.id, "h": (user.password_hash or "")[-12:], "k": kind})


def _user_from_token(token: str) -> User:
    try:
        data, signed_at = _serializer().loads(
            token, max_age=max(TOKEN_MAX_AGE.values()), return_timestamp=True
        )
        max_age = TOKEN_MAX_AGE[data.get("k", "invitation")]
        user = db.session.get(User, int(data["u"]))
    except (SignatureExpired, BadSignature, KeyError, TypeError, ValueError, OverflowError):
        abort(404)
    if (datetime.now(UTC) - signed_at).total_seconds() > max_age:
        abort(404)
    if user is None or not user.active or (user.password_hash or "")[-12:] != data.get("h"):
        abort(404)
    return user


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalars(select(User).where(func.lower(User.email) == email)).first()
        if user is not None and user.active:
            queue_email(
                "password_reset",
                user,
                "Choisir un nouveau mot de passe",
                "password_reset",
                token=password_token(user, "reset"),
                hours=TOKEN_MAX_AGE["reset"] // 3600,
            )
            db.session.commit()
        # The same answer whether the account exists or not.
        flash(RESET_SENT, "info")
        return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def set_password(token: str):
    user = _user_from_token(token)
    form = SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.set_password(user, form.password.data)
        except DomainError as error:
            status = show_error(error, form)
        else:
            if user.consent_at is None or user.consent_by_id != user.id:
                user.consent_at, user.consent_by_id = datetime.now(UTC), user.id
            db.session.commit()
            flash("Votre mot de passe est enregistré. Vous pouvez vous connecter.", "success")
            return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/set_password.html", form=form, user=user), status
