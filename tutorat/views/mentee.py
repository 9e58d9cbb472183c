"""The bénéficiaire's pages: profile, demande, proposal, binôme."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tutorat.extensions import db
from tutorat.forms import (
    ActionForm,
    AnswerForm,
    CheckInForm,
    GoalForm,
    HelpLaterForm,
    MenteeProfileForm,
    RequestForm,
)
from tutorat.models import Meeting, MenteeProfile, Pair, PairStatus, Role, TutoringRequest
from tutorat.permissions import get_or_404, guard_blueprint, visible_pairs, visible_requests
from tutorat.services import checkins, goals, loop, profiles, transparency, voices
from tutorat.services import meetings as meeting_service
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.services.reference import metier_labels
from tutorat.views._helpers import check_in_answer, goal_action, handle_post, pair_voice, success

bp = Blueprint("mentee", __name__, url_prefix="/beneficiaire")
guard_blueprint(bp, Role.MENTEE)


def _profile() -> MenteeProfile:
    return db.session.get_one(MenteeProfile, current_user.id)  # created with every mentee account


@bp.get("/")
def home():
    return _render_home()


def _render_home(status: int = 200):
    profile = _profile()
    tutoring_request = db.session.scalars(
        visible_requests(current_user).order_by(TutoringRequest.created_at.desc())
    ).first()
    pair = db.session.scalars(visible_pairs(current_user).order_by(Pair.proposed_at.desc())).first()
    return render_template(
        "mentee/home.html",
        profile=profile,
        tutoring_request=tutoring_request,
        pair=pair,
        action_form=ActionForm(),
        metiers=metier_labels(profile.metier_codes),
        check_in_pairs=checkins.pairs_waiting_for(current_user),
        next_meeting=meeting_service.next_meeting_of(pair) if pair is not None else None,
    ), status


@bp.route("/profil", methods=["GET", "POST"])
def profile():
    profile = _profile()
    form = MenteeProfileForm()
    if request.method == "GET":
        form.fill(profile)
    return handle_post(
        form,
        lambda: profiles.update_mentee_profile(profile, **form.service_values()),
        on_success=lambda _: success("Votre profil est enregistré.", url_for("mentee.home")),
        render=lambda status: (
            render_template(
                "mentee/profile.html", form=form, profile=profile, action=url_for("mentee.profile")
            ),
            status,
        ),
    )


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
    return handle_post(
        form,
        lambda: request_service.open_request(
            current_user, actor=current_user, **form.service_values()
        ),
        on_success=lambda _: success(
            "Votre demande est envoyée à votre référent. Il vous proposera un tuteur.",
            url_for("mentee.home"),
        ),
        render=lambda status: (
            render_template("mentee/request.html", form=form, action=url_for("mentee.new_request")),
            status,
        ),
    )


@bp.post("/demande/<int:request_id>/annuler")
def cancel_request(request_id: int):
    tutoring_request = get_or_404(visible_requests, TutoringRequest, request_id)
    if request.form.get("confirm") != "yes":
        # The first tap asks: cancelling is not undone by a second tap (issue 15 item 8).
        return render_template(
            "mentee/cancel_confirm.html", tutoring_request=tutoring_request, form=ActionForm()
        )
    return handle_post(
        ActionForm(),
        lambda: request_service.cancel_request(tutoring_request, actor=current_user),
        on_success=lambda _: success("Votre demande est annulée.", url_for("mentee.home")),
        render=_render_home,
    )


def _pair_page(pair: Pair, form: AnswerForm, status: int = 200, help_form=None):
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.pair_id == pair.id).order_by(Meeting.date.desc())
    ).all()
    if help_form is None:
        help_form = HelpLaterForm(prefix="help")
        if pair.mentee_would_help is not None:
            help_form.would_help.data = "yes" if pair.mentee_would_help else "no"
    return render_template(
        "mentee/pair.html",
        pair=pair,
        form=form,
        meetings=meetings,
        tutor_profile=pair.tutor.tutor_profile,
        action_form=ActionForm(),
        my_reports=voices.my_reports(pair, current_user) if pair.is_started else [],
        check_in=checkins.open_check_in(pair, current_user) if pair.is_running else None,
        check_in_form=CheckInForm(),
        goals=goals.goals_of(pair) if pair.is_started else [],
        goal_form=GoalForm(),
        next_meeting=meeting_service.next_meeting_of(pair),
        corrected=meeting_service.corrected_on(pair) if meetings else {},
        asks_to_help=loop.asks_to_help(pair),
        loop_months=loop.invite_months() if pair.status == PairStatus.ENDED else None,
        help_form=help_form,
    ), status


@bp.route("/binome/<int:pair_id>", methods=["GET", "POST"])
def pair(pair_id: int):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    form = AnswerForm(prefix="answer")
    return handle_post(
        form,
        lambda: pair_service.answer(
            pair,
            side=Role.MENTEE,
            actor=current_user,
            **form.service_values(),
        ),
        on_success=lambda _: success(
            "Votre réponse est enregistrée. Votre référent est prévenu.",
            url_for("mentee.pair", pair_id=pair.id),
        ),
        render=lambda status: _pair_page(pair, form, status),
    )


@bp.post("/binome/<int:pair_id>/aider-plus-tard")
def help_later(pair_id: int):
    """At the end of a binôme that led to a job: would she like, later, to help in turn?"""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    form = HelpLaterForm(prefix="help")

    def answered(_):
        if form.would_help.data == "yes":
            return success(
                "Merci ! Nous vous inviterons à devenir tuteur ou tutrice dans "
                f"{loop.invite_months()} mois. Vous pouvez retirer votre accord à tout moment "
                "depuis « Mon compte ».",
                url_for("mentee.pair", pair_id=pair.id),
            )
        return success(
            "Votre réponse est enregistrée. Merci !", url_for("mentee.pair", pair_id=pair.id)
        )

    return handle_post(
        form,
        lambda: loop.record_answer(pair, actor=current_user, yes=form.would_help.data == "yes"),
        on_success=answered,
        render=lambda status: _pair_page(pair, AnswerForm(prefix="answer"), status, form),
    )


@bp.post("/binome/<int:pair_id>/rencontres/<int:meeting_id>/<any(confirmer, contester):choice>")
def confirm_meeting(pair_id: int, meeting_id: int, choice: str):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    meeting = db.session.scalars(
        select(Meeting).where(Meeting.id == meeting_id, Meeting.pair_id == pair.id)
    ).first()
    if meeting is None:
        abort(404)
    back = url_for("mentee.pair", pair_id=pair.id)
    return handle_post(
        ActionForm(),
        lambda: meeting_service.confirm_meeting(
            meeting, pair, actor=current_user, confirmed=choice == "confirmer"
        ),
        on_success=lambda _: success("Merci, votre réponse est enregistrée.", back),
        render=lambda _status: redirect(back),
    )


@bp.get("/binome/<int:pair_id>/explication")
def explanation(pair_id: int):
    """The explanation of the algorithm's part in this proposal (CRPA L311-3-1), printable."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    return render_template(
        "transparency/explanation.html",
        **transparency.explanation_context(pair, current_user),
        pdf_url=url_for("mentee.explanation_pdf", pair_id=pair.id),
    )


@bp.get("/binome/<int:pair_id>/explication.pdf")
def explanation_pdf(pair_id: int):
    """The explanation as a PDF one can print or hand over (same content, addresses printed)."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    response = current_app.response_class(
        transparency.explanation_pdf(pair, current_user), mimetype="application/pdf"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="explication-proposition-{pair.id}.pdf"'
    )
    return response


def _voice_names(pair: Pair) -> dict[str, str]:
    return {"other": f"votre tuteur, {pair.tutor.first_name},", "referent": "votre référent"}


@bp.route("/binome/<int:pair_id>/<any(pause, arret, signaler):what>", methods=["GET", "POST"])
def pair_voice_page(pair_id: int, what: str):
    """Pause the binôme, ask to stop it, or report a problem privately to the référent."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    kind = {"pause": "pause", "arret": "stop", "signaler": "report"}[what]
    return pair_voice(
        pair,
        kind,
        actor=current_user,
        home=url_for("mentee.pair", pair_id=pair.id),
        names=_voice_names(pair),
    )


@bp.post("/binome/<int:pair_id>/reprendre")
def resume(pair_id: int):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    back = url_for("mentee.pair", pair_id=pair.id)
    return handle_post(
        ActionForm(),
        lambda: voices.resume(pair, actor=current_user),
        on_success=lambda _: success("Le binôme reprend. Votre tuteur est prévenu.", back),
        render=lambda _status: redirect(back),
    )


@bp.post("/binome/<int:pair_id>/point/<int:check_in_id>")
def answer_check_in(pair_id: int, check_in_id: int):
    """« Comment se passe le tutorat ? »: one's own answer (another's question is a 404)."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    return check_in_answer(
        pair, check_in_id, actor=current_user, home=url_for("mentee.pair", pair_id=pair.id)
    )


@bp.post("/binome/<int:pair_id>/objectifs")
def add_goal(pair_id: int):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    return goal_action(pair, actor=current_user, home=url_for("mentee.pair", pair_id=pair.id))


@bp.post("/binome/<int:pair_id>/objectifs/<int:goal_id>")
def mark_goal(pair_id: int, goal_id: int):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    return goal_action(
        pair, actor=current_user, home=url_for("mentee.pair", pair_id=pair.id), goal_id=goal_id
    )
