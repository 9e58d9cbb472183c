"""Public pages: home, about, accessibility, personal data; and the role dispatcher."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

bp = Blueprint("main", __name__)

ROLE_HOMES = {
    "mentee": "mentee.home",
    "tutor": "tutor.home",
    "referent": "referent.dashboard",
    "admin": "admin.home",
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
