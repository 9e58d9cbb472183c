"""JSON look-ups for the typing suggestions (communes, métiers); the forms work without them."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from tutorat.extensions import limiter
from tutorat.models import Role
from tutorat.permissions import guard_blueprint
from tutorat.services import reference

bp = Blueprint("api", __name__, url_prefix="/api")
guard_blueprint(bp, Role.MENTEE, Role.TUTOR, Role.REFERENT, Role.ADMIN)


@bp.get("/communes")
@limiter.limit("120 per minute")
def communes():
    return jsonify(reference.commune_suggestions(request.args.get("q", "")[:80]))


@bp.get("/metiers")
@limiter.limit("120 per minute")
def metiers():
    return jsonify(reference.metier_suggestions(request.args.get("q", "")[:80]))
