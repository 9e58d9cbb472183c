"""My account, for every role: notification choices and password change."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from tutorat.forms import ActionForm, ChangePasswordForm, ContactForm, NotificationsForm
from tutorat.models import AccessAction, Role
from tutorat.permissions import guard_blueprint
from tutorat.services import accounts, audit, contact, emails, loop, privacy
from tutorat.views._helpers import handle_post, success

bp = Blueprint("account", __name__, url_prefix="/compte")
guard_blueprint(bp, Role.MENTEE, Role.TUTOR, Role.REFERENT, Role.ADMIN)


@bp.route("/", methods=["GET", "POST"])
def settings():
    form = NotificationsForm(prefix="notif")
    # The choices offered to this person, from the email registry.
    preferences = emails.preferences_for(current_user.role)
    if request.method == "GET":
        for preference in preferences:
            form[preference.field].data = getattr(current_user, preference.field)
    return handle_post(
        form,
        lambda: accounts.choose_emails(
            current_user, {p.field: bool(form[p.field].data) for p in preferences}
        ),
        on_success=lambda _: success(
            "Vos choix de courriels sont enregistrés.", url_for("account.settings")
        ),
        render=lambda status: (
            render_template(
                "account/settings.html",
                form=form,
                preferences=preferences,
                always_sent=emails.security_labels(),
                help_later=loop.opted_in(current_user) if current_user.is_mentee else None,
                action_form=ActionForm(),
            ),
            status,
        ),
    )


@bp.post("/devenir-tuteur/retirer")
def withdraw_help_later():
    """A former mentee withdraws her yes to « être invitée à devenir tuteur plus tard »."""
    if not current_user.is_mentee:
        abort(403)
    form = ActionForm()

    def done(count):
        return success(
            "Votre accord est retiré : vous ne recevrez pas d'invitation à devenir tuteur."
            if count
            else "Vous n'aviez pas d'accord en cours : rien n'a changé.",
            url_for("account.settings"),
        )

    return handle_post(
        form,
        lambda: loop.withdraw(current_user),
        on_success=done,
        render=lambda _status: redirect(url_for("account.settings")),
    )


@bp.route("/coordonnees", methods=["GET", "POST"])
def contact_details():
    """My postal address, phone, and how I want to be reached (email, SMS, courrier)."""
    form = ContactForm()
    if request.method == "GET":
        form.fill(current_user)
    return handle_post(
        form,
        lambda: contact.update_contact(current_user, **form.service_values()),
        on_success=lambda _: success(
            "Vos coordonnées et vos choix sont enregistrés.", url_for("account.settings")
        ),
        render=lambda status: (
            render_template(
                "account/contact.html", form=form, commune=contact.commune_of(current_user)
            ),
            status,
        ),
    )


@bp.route("/mot-de-passe", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()

    def changed(_):
        # Every other session of the account ends; this one goes on with the new version.
        login_user(current_user._get_current_object())
        return success(
            "Votre mot de passe est changé. Vos autres sessions sont fermées.",
            url_for("account.settings"),
        )

    return handle_post(
        form,
        lambda: accounts.change_password(current_user, form.current.data, form.password.data),
        on_success=changed,
        render=lambda status: (render_template("account/password.html", form=form), status),
    )


@bp.get("/mes-donnees")
def my_data():
    audit.note(
        AccessAction.EXPORT,
        target="account.my_data",
        subject_id=current_user.id,
        actor=current_user,
    )
    return render_template(
        "account/my_data.html", data=privacy.my_data(current_user), action_form=ActionForm()
    )


@bp.get("/mes-donnees.json")
def my_data_json():
    audit.note(
        AccessAction.EXPORT,
        target="account.my_data_json",
        subject_id=current_user.id,
        actor=current_user,
    )
    response = jsonify(privacy.my_data(current_user))
    response.headers["Content-Disposition"] = "attachment; filename=mes-donnees-tutorat.json"
    return response


@bp.post("/effacement")
def request_erasure():
    return handle_post(
        ActionForm(),
        lambda: privacy.request_erasure(current_user),
        on_success=lambda _: success(
            "Votre demande d'effacement est enregistrée. Le service du Département la traite dans "
            "un délai d'un mois et vous en informe.",
            url_for("account.my_data"),
        ),
        render=lambda status: abort(status),
    )
