"""Public pages: home, about, accessibility, personal data, reporting a problem; and the role dispatcher."""

from __future__ import annotations

import hmac
from urllib.parse import quote

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
from flask_login import current_user, login_required
from markupsafe import Markup

import matching
from tutorat.extensions import csrf
from tutorat.models import Role
from tutorat.services import notifications, sms, suggestions, transparency
from tutorat.views._helpers import handle_post

bp = Blueprint("main", __name__)

ROLE_HOMES = {
    Role.MENTEE: "mentee.home",
    Role.TUTOR: "tutor.home",
    Role.REFERENT: "referent.dashboard",
    Role.ADMIN: "admin.home",
}


@bp.get("/")
def index():
    return render_template("main/index.html")


@bp.get("/espace")
@login_required
def my_space():
    return redirect(url_for(ROLE_HOMES[current_user.role]))


@bp.get("/a-propos")
def about():
    return render_template("main/about.html")


@bp.get("/accessibilite")
def accessibility():
    return render_template("main/accessibility.html")


@bp.get("/donnees-personnelles")
def privacy():
    return render_template("main/privacy.html")


@bp.get("/algorithme")
def algorithm():
    """The published rules of the algorithm and the current weights (CRPA L312-1-3), public."""
    weights = suggestions.current_weights().to_dict()
    total = sum(weights.values()) or 1
    labels = dict(getattr(matching, "PART_LABELS", {}))
    rows = [(name, labels.get(name, name), value, value / total) for name, value in weights.items()]
    return render_template(
        "main/algorithm.html",
        weights=rows,
        version=suggestions.weights_versions()[-1],
        min_score=suggestions.current_min_score(),
        description=Markup(transparency.public_description_html()),
    )


def _reported_page(value: str | None) -> str:
    """The page the person was on: a path of this site only, short, printable (else nothing)."""
    value = (value or "").strip()
    if (
        not value.startswith("/")
        or value.startswith("//")
        or len(value) > 200
        or any(not c.isprintable() for c in value)
    ):
        return ""
    return value


@bp.get("/signaler-un-probleme")
def report_problem():
    page = _reported_page(request.args.get("page"))
    email = current_app.config.get("CONTACT_EMAIL")
    mailto = None
    if email:
        subject = "Tutorat : signaler un problème"
        body = (
            f"Page concernée : {page or '(à préciser)'}\n\n"
            "Ce que je voulais faire :\n\n"
            "Ce qui s'est passé :\n\n"
            "Mon appareil et mon navigateur (si vous le savez) :\n"
        )
        mailto = f"mailto:{email}?subject={quote(subject)}&body={quote(body)}"
    return render_template("main/report.html", page=page, email=email, mailto=mailto)


@bp.route("/desabonnement/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail client POSTs without our form; the signed token is the proof
def unsubscribe(token: str):
    """Stop one kind of email in one click (the link in every email and its List-Unsubscribe)."""
    target = notifications.unsubscribe_target(token)
    if target is None:
        abort(404)
    _user, preference = target
    return handle_post(
        None,
        lambda: notifications.unsubscribe(token),
        on_success=lambda _: render_template(
            "main/unsubscribe.html", preference=preference, done=True
        ),
        render=lambda status: (
            render_template("main/unsubscribe.html", preference=preference, done=False),
            status,
        ),
    )


@bp.post("/sms/retour/<token>")
@csrf.exempt  # the SMS provider posts here; the secret in the address is the proof
def sms_inbound(token: str):
    """The SMS provider's webhook: a STOP reply stops the SMS to that number."""
    expected = current_app.config.get("SMS_WEBHOOK_TOKEN") or ""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        abort(404)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify({"erreur": "Corps JSON attendu."}), 400
    return handle_post(
        None,
        lambda: sms.handle_inbound(payload),
        on_success=lambda count: jsonify({"comptes_arretes": count}),
        render=lambda status: (jsonify({"erreur": "Message illisible."}), status),
    )
