"""Log in, log out, ask for a password reset, set a password from an emailed link."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
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
from tutorat.services import accounts, audit, throttle
from tutorat.services.db import rollback_quietly
from tutorat.services.errors import DomainError
from tutorat.views._helpers import show_error

bp = Blueprint("auth", __name__)

RESET_SENT = (
    "Si un compte existe avec cette adresse, un courriel vient de lui être envoyé avec un lien "
    "pour choisir un nouveau mot de passe. Pensez à regarder dans les indésirables."
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
    status = 200
    if form.validate_on_submit():
        blocked = throttle.check("login-account", form.email.data)
        if blocked is not None:
            return _too_many(LOGIN_TOO_MANY_FOR_ACCOUNT, blocked, "auth/login.html", form)
        user, account = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            audit.note("connexion", target="auth.login", actor=user, status=302)
            db.session.commit()
            throttle.clear("login-account", form.email.data)
            sessions.begin(user)
            return redirect(_safe_next(request.args.get("next")))
        throttle.hit("login-account", form.email.data)
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


LOGGED_OUT_HERE_ONLY = (
    "Vous êtes bien déconnecté sur cet appareil. Le service ne peut pas enregistrer la "
    "déconnexion de vos autres appareils pour le moment : si vous êtes aussi connecté ailleurs, "
    "déconnectez-vous depuis cet appareil-là."
)


@bp.post("/deconnexion")
def logout():
    try:
        if current_user.is_authenticated:
            # Ends every session of the account, not only this browser's cookie.
            accounts.end_all_sessions(current_user)
            db.session.commit()
            sessions.end()
    except Exception as error:
        # This browser's session ends whatever the database does: on a shared computer, the
        # next person must not find the account open.
        rollback_quietly(db.session)
        errorpages.unknown_user()
        sessions.end()
        if not errorpages.database_unavailable(error):
            raise
        return errorpages.render_error(
            503,
            LOGGED_OUT_HERE_ONLY,
            database_down=True,
            reason=errorpages.failure_reason(error),
        )
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("main.index"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"], error_message=RESET_TOO_MANY_FROM_ADDRESS)
def forgot_password():
    form = ForgotPasswordForm()
    status = 200
    if form.validate_on_submit():
        # Counted per address typed, whether an account has it or not: the answer must not tell.
        blocked = throttle.attempt("reset-account", form.email.data)
        if blocked is not None:
            return _too_many(RESET_TOO_MANY_FOR_ACCOUNT, blocked, "auth/forgot_password.html", form)
        accounts.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether the account exists or not.
        flash(RESET_SENT, "info")
        return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def set_password(token: str):
    user = accounts.user_from_token(token)
    if user is None:
        abort(404)
    form = SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.set_password_from_link(user, form.password.data)
        except DomainError as error:
            status = show_error(error, form)
        else:
            db.session.commit()
            flash("Votre mot de passe est enregistré. Vous pouvez vous connecter.", "success")
            return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/set_password.html", form=form, user=user), status
