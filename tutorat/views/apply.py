"""Public pages for future tutors: « Devenir tuteur » (no account needed) and the tutors' charter."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from tutorat.extensions import limiter
from tutorat.forms import ActionForm, ApplicationForm
from tutorat.services import charter, loop, reference, vetting
from tutorat.views._helpers import handle_post, success

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
    # A former mentee who said yes at the end of her binôme (services/loop.py).
    former_token = request.args.get("ancien") or None
    former_pair = loop.pair_from_token(former_token) if invitation is None else None
    form = ApplicationForm()
    prefilled = False
    if request.method == "GET":
        form.started.data = vetting.form_started_token()
        if invitation is not None:
            form.prefill(invitation)
        elif former_pair is not None and request.args.get("reprendre") == "oui":
            # Only with her consent, given now by ticking the box.
            form.prefill_from(loop.prefill_from_profile(former_pair.mentee))
            prefilled = True
    elif vetting.looks_like_a_bot(form.website.data, form.started.data):
        # A bot: the usual thanks, and nothing kept (it learns nothing from the answer).
        return redirect(url_for("apply.thanks"))

    def page(status: int):
        # A form sent again after an error keeps its signed start time (the person's own).
        if invitation is not None:
            action = url_for("apply.form", invitation=token)
        elif former_pair is not None:
            action = url_for("apply.form", ancien=former_token)
        else:
            action = url_for("apply.form")
        return render_template(
            "apply/form.html",
            form=form,
            action=action,
            invitation=invitation,
            former_pair=former_pair,
            former_token=former_token if former_pair is not None else None,
            prefilled=prefilled,
            prefill_asked=request.args.get("reprendre") is not None and not prefilled,
            charter_version=charter.CURRENT_VERSION,
        ), status

    return handle_post(
        form,
        lambda: vetting.apply(
            form.application_values(),
            invitation=invitation,
            former_mentee=former_pair.mentee if former_pair is not None else None,
        ),
        # The same thanks whether the application was new or already known (nothing tells who applied).
        on_success=lambda _: redirect(url_for("apply.thanks")),
        render=page,
    )


@bp.get("/devenir-tuteur/merci")
def thanks():
    return render_template("apply/thanks.html")


@bp.route("/devenir-tuteur/retirer/<token>", methods=["GET", "POST"])
def withdraw(token: str):
    """The link of the acknowledgement email: the person withdraws their application."""
    application = vetting.application_from_withdrawal(token)
    if application is None:
        abort(404)
    form = ActionForm()
    return handle_post(
        form,
        lambda: vetting.withdraw_by_applicant(application),
        on_success=lambda _: success(
            "Votre candidature est retirée. Merci de nous avoir prévenus ; vous pourrez "
            "candidater de nouveau quand vous le souhaitez.",
            url_for("apply.withdraw", token=token),
        ),
        render=lambda status: (
            render_template("apply/withdraw.html", application=application, form=form, token=token),
            status,
        ),
    )


# Typing suggestions for the public form (the same as the signed-in forms' /api/…, without an
# account: reference data only, nobody's data).
@bp.get("/devenir-tuteur/communes")
@limiter.limit("60 per minute")
def communes():
    return jsonify(reference.commune_suggestions(request.args.get("q", "")[:80]))


@bp.get("/devenir-tuteur/metiers")
@limiter.limit("60 per minute")
def metiers():
    return jsonify(reference.metier_suggestions(request.args.get("q", "")[:80]))


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
