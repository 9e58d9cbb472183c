"""The bénéficiaire's pages: profile, demande, proposal, binôme."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from tutorat.extensions import db
from tutorat.forms import ActionForm, AnswerForm, RequestForm
from tutorat.models import Meeting, MenteeProfile, Pair, Role, TutoringRequest
from tutorat.permissions import get_or_404, guard_blueprint, visible_pairs, visible_requests
from tutorat.services import meetings as meeting_service
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.services import transparency
from tutorat.services.errors import DomainError
from tutorat.services.reference import metier_labels
from tutorat.views._helpers import commit_or_error, form_errors_status, show_error
from tutorat.views._profile import mentee_profile_form, open_request_from_form, save_mentee_profile

bp = Blueprint("mentee", __name__, url_prefix="/beneficiaire")
guard_blueprint(bp, Role.MENTEE)


def _profile() -> MenteeProfile:
    return db.session.get(MenteeProfile, current_user.id)


@bp.get("/")
def home():
    return _render_home()


def _render_home(status: int = 200):
    profile = _profile()
    demande = db.session.scalars(
        visible_requests(current_user).order_by(TutoringRequest.created_at.desc())
    ).first()
    pair = db.session.scalars(visible_pairs(current_user).order_by(Pair.proposed_at.desc())).first()
    return render_template(
        "mentee/home.html",
        profile=profile,
        demande=demande,
        pair=pair,
        action_form=ActionForm(),
        metiers=metier_labels(profile.metier_codes),
    ), status


@bp.route("/profil", methods=["GET", "POST"])
def profile():
    profile = _profile()
    form = mentee_profile_form(profile)
    saved, status = save_mentee_profile(profile, form)
    if saved:
        flash("Votre profil est enregistré.", "success")
        return redirect(url_for("mentee.home"))
    return render_template(
        "mentee/profile.html", form=form, profile=profile, action=url_for("mentee.profile")
    ), status


@bp.route("/demande", methods=["GET", "POST"])
def new_request():
    profile = _profile()
    if not profile.is_complete:
        flash("Complétez d'abord votre profil : commune, métier visé et disponibilités.", "info")
        return redirect(url_for("mentee.profile"))
    reason = request_service.why_no_new_request(current_user)
    if reason:
        flash(reason, "info")
        return redirect(url_for("mentee.home"))
    form = RequestForm()
    demande, status = open_request_from_form(current_user, current_user, form)
    if demande is not None:
        flash("Votre demande est envoyée à votre référent. Il vous proposera un tuteur.", "success")
        return redirect(url_for("mentee.home"))
    return render_template(
        "mentee/request.html", form=form, action=url_for("mentee.new_request")
    ), status


@bp.post("/demande/<int:request_id>/annuler")
def cancel_request(request_id: int):
    demande = get_or_404(visible_requests, TutoringRequest, request_id)
    if not ActionForm().validate_on_submit():
        return _render_home(400)
    try:
        request_service.cancel_request(demande, actor=current_user)
    except DomainError as error:
        return _render_home(show_error(error))
    ok, status = commit_or_error()
    if not ok:
        return _render_home(status)
    flash("Votre demande est annulée.", "success")
    return redirect(url_for("mentee.home"))


@bp.route("/binome/<int:pair_id>", methods=["GET", "POST"])
def pair(pair_id: int):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    form = AnswerForm(prefix="answer")
    status = 200
    if form.is_submitted():
        if not form.validate():
            status = form_errors_status(form)
        else:
            try:
                pair_service.answer(
                    pair,
                    side="mentee",
                    accept=form.decision.data == "accept",
                    actor=current_user,
                    reason=form.reason.data,
                    detail=form.detail.data or "",
                )
            except DomainError as error:
                status = show_error(error, form)
            else:
                ok, status = commit_or_error()
                if ok:
                    flash("Votre réponse est enregistrée. Votre référent est prévenu.", "success")
                    return redirect(url_for("mentee.pair", pair_id=pair.id))
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.pair_id == pair.id).order_by(Meeting.date.desc())
    ).all()
    tutor_profile = pair.tutor.tutor_profile
    return render_template(
        "mentee/pair.html",
        pair=pair,
        form=form,
        meetings=meetings,
        tutor_profile=tutor_profile,
        action_form=ActionForm(),
    ), status


@bp.post("/binome/<int:pair_id>/rencontres/<int:meeting_id>/<any(confirmer, contester):choice>")
def confirm_meeting(pair_id: int, meeting_id: int, choice: str):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    meeting = db.session.scalars(
        select(Meeting).where(Meeting.id == meeting_id, Meeting.pair_id == pair.id)
    ).first()
    if meeting is None:
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            meeting_service.confirm_meeting(
                meeting, pair, actor=current_user, confirmed=choice == "confirmer"
            )
        except DomainError as error:
            show_error(error)
        else:
            commit_or_error()
            flash("Merci, votre réponse est enregistrée.", "success")
    return redirect(url_for("mentee.pair", pair_id=pair.id))


@bp.get("/binome/<int:pair_id>/explication")
def explanation(pair_id: int):
    """The explanation of the algorithm's part in this proposal (CRPA L311-3-1), printable."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    return render_template(
        "transparency/explanation.html", **transparency.explanation_context(pair, current_user)
    )
