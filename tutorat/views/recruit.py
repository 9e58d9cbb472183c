"""A référent suggests to someone they know (a former beneficiary, for instance) to become a tutor."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from tutorat.forms import SuggestTutorForm
from tutorat.models import Role
from tutorat.permissions import guard_blueprint
from tutorat.services import vetting
from tutorat.views._helpers import handle_post, success

bp = Blueprint("recruit", __name__, url_prefix="/referent/proposer-un-tuteur")
guard_blueprint(bp, Role.REFERENT)


@bp.route("/", methods=["GET", "POST"])
def suggest():
    form = SuggestTutorForm()

    def sent(application):
        if application is None:
            flash(
                "Cette personne a déjà un compte ou une candidature en cours : aucune nouvelle "
                "invitation n'est envoyée.",
                "info",
            )
            return redirect(url_for("recruit.suggest"))
        return success(
            f"L'invitation est envoyée à {application.full_name}. Si la personne candidate, "
            "le département examinera sa candidature ; votre nom y figure.",
            url_for("recruit.suggest"),
        )

    return handle_post(
        form,
        lambda: vetting.suggest(
            referent=current_user,
            first_name=form.first_name.data or "",
            last_name=form.last_name.data or "",
            email=form.email.data or "",
            phone=form.phone.data or None,
            note=form.note.data or "",
        ),
        on_success=sent,
        render=lambda status: (render_template("referent/suggest_tutor.html", form=form), status),
    )
