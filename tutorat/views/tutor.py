"""The tuteur's pages: profile, proposals to answer, binômes, meetings."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from tutorat import sessions
from tutorat.extensions import db
from tutorat.forms import (
    ActionForm,
    AnswerForm,
    CheckInForm,
    DeleteMeetingForm,
    GoalForm,
    MeetingForm,
    NewMeetingForm,
    NextMeetingForm,
    TutorProfileForm,
    TutorWishForm,
)
from tutorat.models import Meeting, Pair, Role, TutorProfile
from tutorat.models.pairs import LIVE_PAIR_STATUSES
from tutorat.permissions import get_or_404, guard_blueprint, visible_pairs
from tutorat.services import (
    attestation,
    charter,
    checkins,
    deactivation,
    disclosure,
    goals,
    profiles,
    transparency,
    vetting,
    voices,
)
from tutorat.services import meetings as meeting_service
from tutorat.services import pairs as pair_service
from tutorat.views._helpers import check_in_answer, goal_action, handle_post, pair_voice, success

bp = Blueprint("tutor", __name__, url_prefix="/tuteur")
guard_blueprint(bp, Role.TUTOR)


def _profile() -> TutorProfile:
    return db.session.get_one(TutorProfile, current_user.id)  # created with every tutor account


@bp.get("/")
def home():
    pairs = db.session.scalars(visible_pairs(current_user).order_by(Pair.proposed_at.desc())).all()
    waiting = [p for p in pairs if p.is_unanswered and p.tutor_answer is None]
    live = [p for p in pairs if p.status in LIVE_PAIR_STATUSES and p not in waiting]
    past = [p for p in pairs if p.status not in LIVE_PAIR_STATUSES]
    last_meetings = (
        dict(
            db.session.execute(
                select(Meeting.pair_id, func.max(Meeting.date))
                .where(Meeting.pair_id.in_([p.id for p in live]))
                .group_by(Meeting.pair_id)
            ).all()
        )
        if live
        else {}
    )
    profile = _profile()
    now = datetime.now(UTC)
    return render_template(
        "tutor/home.html",
        profile=profile,
        charter_version=charter.CURRENT_VERSION,
        resting_until=profile.rest_until
        if profile.rest_until is not None and profile.rest_until > now
        else None,
        today=profiles.local_today(now),
        waiting=waiting,
        live=live,
        past=past,
        last_meetings=last_meetings,
        next_meetings=meeting_service.next_meetings_for(live),
        check_in_pairs=checkins.pairs_waiting_for(current_user),
    )


@bp.post("/charte")
def accept_charter():
    """The tutor accepts the charter in force (a new version asks again)."""
    return handle_post(
        ActionForm(),
        lambda: vetting.accept_charter(current_user),
        on_success=lambda _: success(
            "Merci : votre accord avec la charte des tuteurs est enregistré.", url_for("tutor.home")
        ),
        render=lambda status: abort(status),
    )


@bp.route("/quitter", methods=["GET", "POST"])
def leave():
    """The tutor leaves the programme, at any time: the account is closed, pending proposals withdrawn."""

    def left(report):
        sessions.end()
        withdrawn = report["propositions retirées"]
        return success(
            "Vous avez quitté le programme de tutorat. Merci pour votre engagement."
            + (f" {withdrawn} proposition(s) en attente ont été retirées." if withdrawn else "")
            + " Pour revenir un jour, il suffira de candidater à nouveau.",
            url_for("main.index"),
        )

    return handle_post(
        ActionForm(),
        lambda: deactivation.deactivate_account(
            current_user, actor=current_user, reason="Le tuteur a quitté le programme"
        ),
        on_success=left,
        render=lambda status: (
            render_template("tutor/leave.html", profile=_profile(), form=ActionForm()),
            status,
        ),
    )


def _forged_capacity() -> bool:
    return request.form.get("capacity") not in {str(n) for n in range(1, 4)}


@bp.route("/profil", methods=["GET", "POST"])
def profile():
    profile = _profile()
    form = TutorProfileForm()
    if request.method == "GET":
        form.fill(profile)
    running, pending = profiles.places_taken(profile)
    return handle_post(
        form,
        lambda: profiles.update_tutor_profile(profile, **form.service_values()),
        on_success=lambda news: success(
            f"Votre profil est enregistré. {news}".strip(), url_for("tutor.home")
        ),
        render=lambda status: (
            render_template(
                "tutor/profile.html",
                form=form,
                profile=profile,
                places=profiles.places_sentence(running, pending),
            ),
            # A number of persons outside 1 to 3 can only be a forged request: a 400.
            400 if request.method == "POST" and _forged_capacity() else status,
        ),
    )


def _pair_page(
    pair: Pair,
    answer_form: AnswerForm,
    status: int = 200,
    wish_form: TutorWishForm | None = None,
    next_form: NextMeetingForm | None = None,
):
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.pair_id == pair.id).order_by(Meeting.date.desc())
    ).all()
    if wish_form is None:
        wish_form = TutorWishForm(prefix="wish")
        if pair.tutor_wants_again is not None:
            wish_form.wants_again.data = "yes" if pair.tutor_wants_again else "no"
    next_meeting = meeting_service.next_meeting_of(pair) if pair.is_running else None
    if next_form is None:
        next_form = NextMeetingForm(prefix="next")
        if next_meeting is not None:
            next_form.next_date.data = next_meeting.day
            next_form.next_time.data = next_meeting.at_time
            next_form.next_place.data = next_meeting.place
    now = datetime.now(UTC)
    return render_template(
        "tutor/pair.html",
        pair=pair,
        form=answer_form,
        meetings=meetings,
        changeable={m.id for m in meetings if meeting_service.can_change(m, pair, now)},
        edit_days=meeting_service.EDIT_DAYS,
        changes=meeting_service.changes_of(pair) if pair.is_started else [],
        next_meeting=next_meeting,
        next_form=next_form,
        wish_form=wish_form,
        my_reports=voices.my_reports(pair, current_user) if pair.is_started else [],
        check_in=checkins.open_check_in(pair, current_user) if pair.is_running else None,
        check_in_form=CheckInForm(),
        goals=goals.goals_of(pair) if pair.is_started else [],
        goal_form=GoalForm(),
    ), status


@bp.get("/binome/<int:pair_id>")
def pair(pair_id: int):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    return _pair_page(pair, AnswerForm(prefix="answer"))


@bp.post("/binome/<int:pair_id>/reponse")
def answer(pair_id: int):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    form = AnswerForm(prefix="answer")

    accepted = "Merci ! Votre accord est enregistré. Le référent confirmera le binôme."
    declined = "Votre refus est enregistré. Merci d'avoir répondu."
    return handle_post(
        form,
        lambda: pair_service.answer(
            pair,
            side=Role.TUTOR,
            actor=current_user,
            **form.service_values(),
        ),
        on_success=lambda _: success(
            accepted if form.decision.data == "accept" else declined,
            url_for("tutor.pair", pair_id=pair.id),
        ),
        render=lambda status: _pair_page(pair, form, status),
    )


@bp.post("/binome/<int:pair_id>/souhait")
def wish(pair_id: int):
    """Once the binôme has ended, the tutor says whether they wish to follow someone else."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    form = TutorWishForm(prefix="wish")
    return handle_post(
        form,
        lambda: pair_service.record_tutor_wish(
            pair, actor=current_user, wants_again=form.wants_again.data == "yes"
        ),
        on_success=lambda _: success(
            "Merci, votre réponse est enregistrée.", url_for("tutor.pair", pair_id=pair.id)
        ),
        render=lambda status: _pair_page(pair, AnswerForm(prefix="answer"), status, form),
    )


@bp.route("/binome/<int:pair_id>/rencontre", methods=["GET", "POST"])
def new_meeting(pair_id: int):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    form = NewMeetingForm()
    if request.method == "GET":
        # Most meetings are logged the same day: today, in the Gers.
        form.date.data = profiles.local_today()
        view = disclosure.pair_view(pair, current_user)
        form.place.data = view.meeting_place if view.meeting_place_shown else ""
    next_values = form.next_values()
    return handle_post(
        form,
        lambda: meeting_service.log_meeting(
            pair,
            actor=current_user,
            **form.service_values(),
            next_day=next_values["day"],
            next_time=next_values["at_time"],
            next_place=next_values["place"],
        ),
        on_success=lambda _: success(
            "La rencontre est enregistrée."
            + (
                " La prochaine rencontre aussi : un rappel sera envoyé la veille."
                if next_values["day"]
                else ""
            ),
            url_for("tutor.pair", pair_id=pair.id),
        ),
        render=lambda status: (
            render_template(
                "tutor/meeting.html",
                form=form,
                pair=pair,
                next_meeting=meeting_service.next_meeting_of(pair),
            ),
            status,
        ),
    )


def _meeting_of(pair: Pair, meeting_id: int) -> Meeting:
    """A meeting of this binôme (the binôme is the tutor's own): any other is a 404."""
    meeting = db.session.scalars(
        select(Meeting).where(Meeting.id == meeting_id, Meeting.pair_id == pair.id)
    ).first()
    if meeting is None:
        abort(404)
    return meeting


def _edit_page(pair: Pair, meeting: Meeting, form, delete_form, status: int):
    if not meeting_service.can_change(meeting, pair) and status < 400:
        status = 409  # the page says why it cannot be changed any more
    return render_template(
        "tutor/meeting_edit.html",
        pair=pair,
        meeting=meeting,
        form=form,
        delete_form=delete_form,
        can_change=meeting_service.can_change(meeting, pair),
        edit_days=meeting_service.EDIT_DAYS,
        editable_until=meeting_service.editable_until(meeting),
    ), status


@bp.route("/binome/<int:pair_id>/rencontres/<int:meeting_id>", methods=["GET", "POST"])
def edit_meeting(pair_id: int, meeting_id: int):
    """Correct a meeting within 7 days of logging it (each change is kept)."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    meeting = _meeting_of(pair, meeting_id)
    form = _filled(meeting) if request.method == "GET" else MeetingForm()
    return handle_post(
        form,
        lambda: meeting_service.correct_meeting(
            meeting, pair, actor=current_user, **form.service_values()
        ),
        on_success=lambda change: success(
            "La rencontre est corrigée ; la correction est gardée dans l'historique."
            + (
                " La personne pourra confirmer la rencontre corrigée."
                if "mentee_confirmation" in change.changes
                else ""
            ),
            url_for("tutor.pair", pair_id=pair.id),
        ),
        render=lambda status: _edit_page(
            pair, meeting, form, DeleteMeetingForm(prefix="delete"), status
        ),
    )


@bp.post("/binome/<int:pair_id>/rencontres/<int:meeting_id>/supprimer")
def delete_meeting(pair_id: int, meeting_id: int):
    """Delete a meeting logged by mistake, within 7 days (what it said is kept)."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    meeting = _meeting_of(pair, meeting_id)
    form = DeleteMeetingForm(prefix="delete")
    return handle_post(
        form,
        lambda: meeting_service.delete_meeting(meeting, pair, actor=current_user),
        on_success=lambda _: success(
            "La rencontre est supprimée ; ce qu'elle disait reste dans l'historique.",
            url_for("tutor.pair", pair_id=pair.id),
        ),
        render=lambda status: _edit_page(pair, meeting, _filled(meeting), form, status),
    )


def _filled(meeting: Meeting) -> MeetingForm:
    form = MeetingForm(formdata=None)
    form.date.data = meeting.date
    form.duration.data = meeting.duration_minutes
    form.mode.data = meeting.mode
    form.place.data = meeting.place
    form.topics.data = meeting.topic_codes
    form.note.data = meeting.note
    return form


@bp.post("/binome/<int:pair_id>/prochaine-rencontre")
def next_meeting(pair_id: int):
    """Plan or move the next meeting (shown to both, reminded the day before)."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    form = NextMeetingForm(prefix="next")
    return handle_post(
        form,
        lambda: meeting_service.plan_next_meeting(pair, actor=current_user, **form.next_values()),
        on_success=lambda _: success(
            "La prochaine rencontre est notée. Vous et la personne recevrez un rappel la veille.",
            url_for("tutor.pair", pair_id=pair.id) + "#prochaine-rencontre",
        ),
        render=lambda status: _pair_page(pair, AnswerForm(prefix="answer"), status, next_form=form),
    )


@bp.post("/binome/<int:pair_id>/prochaine-rencontre/annuler")
def cancel_next_meeting(pair_id: int):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    back = url_for("tutor.pair", pair_id=pair.id)
    return handle_post(
        ActionForm(),
        lambda: meeting_service.cancel_next_meeting(pair, actor=current_user),
        on_success=lambda _: success("La prochaine rencontre est retirée.", back),
        render=lambda _status: redirect(back),
    )


@bp.get("/binome/<int:pair_id>/explication")
def explanation(pair_id: int):
    """The explanation of the algorithm's part in this proposal (CRPA L311-3-1), printable."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    return render_template(
        "transparency/explanation.html",
        **transparency.explanation_context(pair, current_user),
        pdf_url=url_for("tutor.explanation_pdf", pair_id=pair.id),
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


@bp.get("/binome/<int:pair_id>/attestation.pdf")
def attestation_pdf(pair_id: int):
    """The « attestation de bénévolat » of an ended binôme: for its tutor only (others: 404)."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    if not attestation.available(pair):
        abort(404)
    response = current_app.response_class(
        attestation.attestation_pdf(pair), mimetype="application/pdf"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="attestation-benevolat-{pair.id}.pdf"'
    )
    return response


def _voice_names(pair: Pair) -> dict[str, str]:
    shared = disclosure.pair_view(pair, current_user).mentee_fields
    other = shared.get("first_name") or "la personne que vous accompagnez"
    return {"other": other, "referent": "son référent"}


@bp.route("/binome/<int:pair_id>/<any(pause, arret, signaler):what>", methods=["GET", "POST"])
def pair_voice_page(pair_id: int, what: str):
    """Pause the binôme, ask to stop it, or report a problem privately to the référent."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    kind = {"pause": "pause", "arret": "stop", "signaler": "report"}[what]
    return pair_voice(
        pair,
        kind,
        actor=current_user,
        home=url_for("tutor.pair", pair_id=pair.id),
        names=_voice_names(pair),
    )


@bp.post("/binome/<int:pair_id>/reprendre")
def resume(pair_id: int):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    back = url_for("tutor.pair", pair_id=pair.id)
    return handle_post(
        ActionForm(),
        lambda: voices.resume(pair, actor=current_user),
        on_success=lambda _: success("Le binôme reprend. La personne est prévenue.", back),
        render=lambda _status: redirect(back),
    )


@bp.post("/binome/<int:pair_id>/point/<int:check_in_id>")
def answer_check_in(pair_id: int, check_in_id: int):
    """« Comment se passe le tutorat ? »: one's own answer (another's question is a 404)."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    return check_in_answer(
        pair, check_in_id, actor=current_user, home=url_for("tutor.pair", pair_id=pair.id)
    )


@bp.post("/binome/<int:pair_id>/objectifs/<int:goal_id>")
def mark_goal(pair_id: int, goal_id: int):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    return goal_action(
        pair, actor=current_user, home=url_for("tutor.pair", pair_id=pair.id), goal_id=goal_id
    )
