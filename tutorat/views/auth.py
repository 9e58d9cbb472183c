"""Log in, log out, ask for a password reset, set a password from an emailed link."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from tutorat import errorpages, sessions
from tutorat.extensions import db, limiter
from tutorat.forms import ForgotPasswordForm, LoginForm, SetPasswordForm
from tutorat.services import accounts, throttle
from tutorat.services.db import database_unavailable, failure_reason, rollback_quietly
from tutorat.views._helpers import handle_post, success

bp = Blueprint("auth", __name__)

RESET_SENT = (
    "Si un compte existe avec cette adresse, un courriel vient de lui être envoyé avec un lien "
    "pour choisir un nouveau mot de passe. Pensez à regarder dans les indésirables."
)
LOGIN_REFUSED = (
    "Adresse électronique ou mot de passe incorrect. Après plusieurs erreurs, le compte est "
    "bloqué pendant quelques minutes."
)
# 429 messages: what happened, how long to wait, what else to do.
LOGIN_TOO_MANY_FROM_ADDRESS = (
    "Trop de tentatives de connexion depuis votre réseau. Patientez une minute puis réessayez."
)
LOGIN_TOO_MANY_FOR_ACCOUNT = (
    "Trop de tentatives de connexion avec cette adresse électronique : par sécurité, la connexion "
    "est suspendue pendant {minutes} minute{s}. Si vous avez oublié votre mot de passe, "
    "choisissez-en un nouveau avec « Mot de passe oublié ? » : ce lien reste ouvert."
)
RESET_TOO_MANY_FROM_ADDRESS = (
    "Trop de demandes de nouveau mot de passe depuis votre réseau. Patientez un moment "
    "puis réessayez."
)
RESET_TOO_MANY_FOR_ACCOUNT = (
    "Trop de demandes de nouveau mot de passe pour cette adresse électronique. Regardez vos "
    "courriels (et les indésirables) : chaque lien envoyé reste valable 2 heures. Sinon, "
    "réessayez dans {minutes} minute{s}."
)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


def _info(text: str, location: str):
    flash(text, "info")
    return redirect(location)


def _too_many(text: str, blocked: throttle.Blocked, template: str, form):
    """The form again, with a French message saying how long to wait, as a 429."""
    flash(text.format(minutes=blocked.minutes, s="s" if blocked.minutes > 1 else ""), "error")
    response = make_response(render_template(template, form=form), 429)
    response.headers["Retry-After"] = str(blocked.retry_after)
    return response


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
@limiter.limit(_login_limit, methods=["POST"], error_message=LOGIN_TOO_MANY_FROM_ADDRESS)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.my_space"))
    form = LoginForm()

    def page(status: int):
        return render_template("auth/login.html", form=form), status

    def logged_in(user):
        if user is None:
            flash(LOGIN_REFUSED, "error")
            return page(401)
        sessions.begin(user)
        return redirect(_safe_next(request.args.get("next")))

    try:
        return handle_post(
            form,
            lambda: accounts.log_in(form.email.data, form.password.data),
            on_success=logged_in,
            render=page,
        )
    except throttle.TooManyAttempts as error:
        return _too_many(LOGIN_TOO_MANY_FOR_ACCOUNT, error.blocked, "auth/login.html", form)


LOGGED_OUT_HERE_ONLY = (
    "Vous êtes bien déconnecté sur cet appareil. Le service ne peut pas enregistrer la "
    "déconnexion de vos autres appareils pour le moment : si vous êtes aussi connecté ailleurs, "
    "déconnectez-vous depuis cet appareil-là."
)


@bp.post("/deconnexion")
def logout():
    def end_sessions() -> None:
        # Every session of the account, not only this browser's cookie.
        if current_user.is_authenticated:
            accounts.end_all_sessions(current_user)

    def logged_out(_=None):
        sessions.end()
        flash("Vous êtes déconnecté.", "info")
        return redirect(url_for("main.index"))

    try:
        return handle_post(None, end_sessions, on_success=logged_out, render=logged_out)
    except Exception as error:
        # This browser's session ends whatever the database does: on a shared computer, the
        # next person must not find the account open.
        rollback_quietly(db.session)
        errorpages.unknown_user()
        sessions.end()
        if not database_unavailable(error):
            raise
        return errorpages.render_error(
            503,
            LOGGED_OUT_HERE_ONLY,
            database_down=True,
            reason=failure_reason(error),
        )


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"], error_message=RESET_TOO_MANY_FROM_ADDRESS)
def forgot_password():
    form = ForgotPasswordForm()
    try:
        return handle_post(
            form,
            lambda: accounts.request_password_reset(form.email.data),
            # The same answer whether the account exists or not.
            on_success=lambda _: _info(RESET_SENT, url_for("auth.login")),
            render=lambda status: (render_template("auth/forgot_password.html", form=form), status),
        )
    except throttle.TooManyAttempts as error:
        return _too_many(
            RESET_TOO_MANY_FOR_ACCOUNT, error.blocked, "auth/forgot_password.html", form
        )


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def set_password(token: str):
    user = accounts.user_from_token(token)
    if user is None:
        # A link already used, expired, or mistyped: say so and offer the way on (not a 404).
        return render_template("auth/link_used.html"), 410
    form = SetPasswordForm()

    def logged_in(_result):
        # The link proved the mailbox and the password was just chosen: no second login.
        sessions.begin(user)
        return success(
            "Votre mot de passe est enregistré. Vous êtes connecté.", url_for("main.my_space")
        )

    return handle_post(
        form,
        lambda: accounts.set_password_from_link(user, form.password.data),
        on_success=logged_in,
        render=lambda status: (
            render_template("auth/set_password.html", form=form, user=user),
            status,
        ),
    )
