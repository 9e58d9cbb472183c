"""My account, for every role: notification choices and password change."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from tutorat.forms import ActionForm, ChangePasswordForm, NotificationsForm
from tutorat.models import Role
from tutorat.permissions import guard_blueprint
from tutorat.services import accounts, audit, emails, privacy
from tutorat.services.errors import DomainError
from tutorat.views._helpers import commit_or_error, form_errors_status, show_error

bp = Blueprint("account", __name__, url_prefix="/compte")
guard_blueprint(bp, Role.MENTEE, Role.TUTOR, Role.REFERENT, Role.ADMIN)


@bp.route("/", methods=["GET", "POST"])
def settings():
    form = NotificationsForm(prefix="notif")
    # The choices offered to this person, from the email registry.
    preferences = emails.preferences_for(current_user.role)
    status = 200
    if request.method == "GET":
        for preference in preferences:
            form[preference.field].data = getattr(current_user, preference.field)
    elif form.validate_on_submit():
        for preference in preferences:
            setattr(current_user, preference.field, bool(form[preference.field].data))
        ok, status = commit_or_error()
        if ok:
            flash("Vos choix de courriels sont enregistrés.", "success")
            return redirect(url_for("account.settings"))
    else:
        status = form_errors_status(form)
    return render_template(
        "account/settings.html",
        form=form,
        preferences=preferences,
        always_sent=emails.security_labels(),
    ), status


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
                    login_user(current_user._get_current_object())
                    flash(
                        "Votre mot de passe est changé. Vos autres sessions sont fermées.",
                        "success",
                    )
                    return redirect(url_for("account.settings"))
    elif request.method == "POST":
        status = form_errors_status(form)
    return render_template("account/password.html", form=form), status


@bp.get("/mes-donnees")
def my_data():
    audit.note("export", target="account.my_data", subject_id=current_user.id, actor=current_user)
    return render_template(
        "account/my_data.html", data=privacy.my_data(current_user), action_form=ActionForm()
    )


@bp.get("/mes-donnees.json")
def my_data_json():
    audit.note(
        "export", target="account.my_data_json", subject_id=current_user.id, actor=current_user
    )
    response = jsonify(privacy.my_data(current_user))
    response.headers["Content-Disposition"] = "attachment; filename=mes-donnees-tutorat.json"
    return response


@bp.post("/effacement")
def request_erasure():
    if not ActionForm().validate_on_submit():
        abort(400)
    privacy.request_erasure(current_user)
    audit.note(
        "demande_effacement",
        target="account.request_erasure",
        subject_id=current_user.id,
        actor=current_user,
    )
    commit_or_error()
    flash(
        "Votre demande d'effacement est enregistrée. Le service du Département la traite dans un délai d'un "
        "mois et vous en informe.",
        "success",
    )
    return redirect(url_for("account.my_data"))
