"""My account, for every role: notification choices and password change."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from tutorat.forms import ChangePasswordForm, NotificationsForm
from tutorat.models import Role
from tutorat.permissions import guard_blueprint
from tutorat.services import accounts
from tutorat.services.errors import DomainError
from tutorat.views._helpers import commit_or_error, form_errors_status, show_error

bp = Blueprint("account", __name__, url_prefix="/compte")
guard_blueprint(bp, Role.MENTEE, Role.TUTOR, Role.REFERENT, Role.ADMIN)

PREFERENCES = ("notify_proposals", "notify_reminders", "notify_digest")


@bp.route("/", methods=["GET", "POST"])
def settings():
    form = NotificationsForm(prefix="notif")
    status = 200
    if request.method == "GET":
        for name in PREFERENCES:
            getattr(form, name).data = getattr(current_user, name)
    elif form.validate_on_submit():
        for name in PREFERENCES:
            setattr(current_user, name, bool(getattr(form, name).data))
        ok, status = commit_or_error()
        if ok:
            flash("Vos choix de courriels sont enregistrés.", "success")
            return redirect(url_for("account.settings"))
    else:
        status = form_errors_status(form)
    return render_template("account/settings.html", form=form), status


@bp.route("/mot-de-passe", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        if not accounts.verify_password(current_user, form.current.data):
            form.current.errors = [*form.current.errors, "Le mot de passe actuel n'est pas le bon."]
            status = 422
        else:
            try:
                accounts.set_password(current_user, form.password.data)
            except DomainError as error:
                status = show_error(error, form)
            else:
                ok, status = commit_or_error()
                if ok:
                    # Every other session of the account ends; this one goes on with the new version.
                    login_user(current_user)
                    flash("Votre mot de passe est changé. Vos autres sessions sont fermées.", "success")
                    return redirect(url_for("account.settings"))
    elif request.method == "POST":
        status = form_errors_status(form)
    return render_template("account/password.html", form=form), status
