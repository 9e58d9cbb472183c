"""Public pages for future tutors: « Devenir tuteur » (no account needed) and the tutors' charter."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from tutorat.extensions import limiter
from tutorat.forms import ApplicationForm
from tutorat.services import charter, vetting
from tutorat.views._helpers import handle_post

bp = Blueprint("apply", __name__)

TOO_MANY = (
    "Trop de candidatures envoyées depuis votre réseau. Patientez quelques minutes puis "
    "réessayez ; si vous êtes dans un lieu public (médiathèque, Maison France Services), "
    "demandez à l'accueil."
)


def _apply_limit() -> str:
    return current_app.config["APPLY_RATE_LIMIT"]


@bp.route("/devenir-tuteur", methods=["GET", "POST"])
@limiter.limit(_apply_limit, methods=["POST"], error_message=TOO_MANY)
def form():
    token = request.args.get("invitation") or None
    invitation = vetting.invited_application(token)
    form = ApplicationForm()
    if request.method == "GET":
        form.started.data = vetting.form_started_token()
        if invitation is not None:
            form.prefill(invitation)
    elif vetting.looks_like_a_bot(form.website.data, form.started.data):
        # A bot: the usual thanks, and nothing kept (it learns nothing from the answer).
        return redirect(url_for("apply.thanks"))

    def page(status: int):
        # A form sent again after an error keeps its signed start time (the person's own).
        return render_template(
            "apply/form.html",
            form=form,
            token=token if invitation is not None else None,
            invitation=invitation,
            charter_version=charter.CURRENT_VERSION,
        ), status

    return handle_post(
        form,
        lambda: vetting.apply(form.application_values(), invitation=invitation),
        # The same thanks whether the application was new or already known (nothing tells who applied).
        on_success=lambda _: redirect(url_for("apply.thanks")),
        render=page,
    )


@bp.get("/devenir-tuteur/merci")
def thanks():
    return render_template("apply/thanks.html")


@bp.get("/charte-des-tuteurs", endpoint="charter")
def charter_page():
    raw = request.args.get("version", "")
    version = charter.CURRENT_VERSION
    if raw:
        if not (raw.isascii() and raw.isdigit()) or int(raw) not in charter.VERSIONS:
            abort(404)
        version = int(raw)
    return render_template(
        "apply/charter.html",
        version=version,
        since=charter.VERSIONS[version],
        current=charter.CURRENT_VERSION,
        body=charter.template(version),
    )
