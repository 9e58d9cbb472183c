"""The département's administration: accounts (référents, tutors) and tutors' validation."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

import matching
from tutorat.extensions import db
from tutorat.forms import (
    ActionForm,
    AdoptWeightsForm,
    MinScoreForm,
    NewAccountForm,
    TransferForm,
    WeightsForm,
)
from tutorat.models import (
    AccessLog,
    ApplicationStatus,
    Letter,
    MessageStatus,
    OutboxEmail,
    OutboxSms,
    Pair,
    Role,
    TutorApplication,
    TutoringRequest,
    TutorProfile,
    User,
)
from tutorat.permissions import guard_blueprint
from tutorat.services import (
    accounts,
    attestation,
    caseload,
    deactivation,
    decisions,
    letters,
    notifications,
    privacy,
    shortage,
    sms,
    suggestions,
    vetting,
)
from tutorat.services.errors import DomainError
from tutorat.views._helpers import handle_post, success

bp = Blueprint("admin", __name__, url_prefix="/admin")
guard_blueprint(bp, Role.ADMIN)


@bp.get("/")
def home():
    counts = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    requests_by_status = dict(
        db.session.execute(
            select(TutoringRequest.status, func.count()).group_by(TutoringRequest.status)
        ).all()
    )
    pairs_by_status = dict(
        db.session.execute(select(Pair.status, func.count()).group_by(Pair.status)).all()
    )
    return render_template(
        "admin/home.html",
        to_review=vetting.open_count(),
        counts=counts,
        requests_by_status=requests_by_status,
        pairs_by_status=pairs_by_status,
        shortage=shortage.shortage(),
        tutors_without_address=letters.tutors_without_address(),
    )


@bp.get("/comptes")
def accounts_list():
    try:
        role = Role(request.args.get("role", Role.REFERENT))
    except ValueError:
        abort(400)
    if role == Role.MENTEE:
        abort(400)
    users = db.session.scalars(
        select(User).where(User.role == role).order_by(User.last_name).limit(500)
    ).all()
    tutor_profiles = {}
    if role == Role.TUTOR:
        tutor_profiles = {
            p.user_id: p
            for p in db.session.scalars(
                select(TutorProfile).where(TutorProfile.user_id.in_([u.id for u in users]))
            )
        }
    applications = {}
    if role == Role.TUTOR:
        applications = dict(
            db.session.execute(
                select(TutorApplication.tutor_id, TutorApplication.id).where(
                    TutorApplication.tutor_id.in_([u.id for u in users]),
                    TutorApplication.status == ApplicationStatus.TO_REVIEW,
                )
            ).all()
        )
    return render_template(
        "admin/accounts.html",
        users=users,
        role=role,
        tutor_profiles=tutor_profiles,
        applications=applications,
        action_form=ActionForm(),
    )


@bp.route("/comptes/nouveau", methods=["GET", "POST"])
def new_account():
    form = NewAccountForm()

    def create():
        if form.role.data == Role.TUTOR:
            # Not validated yet: the same checklist as an application (services/vetting.py).
            return vetting.create_tutor_account(
                email=form.email.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                phone=form.phone.data,
                inviter=current_user,
            )
        return accounts.invite(
            role=Role(form.role.data),
            email=form.email.data,
            first_name=form.first_name.data,
            last_name=form.last_name.data,
            phone=form.phone.data,
            organisation=form.organisation.data,
            inviter=current_user,
        )

    def created(user):
        if user.role == Role.TUTOR:
            application = vetting.open_application_of(user)
            return success(
                f"Le compte de {user.full_name} est créé ; un courriel l'invite à choisir son mot "
                "de passe. Il pourra être proposé une fois la liste de vérification complète.",
                url_for("applications.detail", application_id=application.id)
                if application
                else url_for("applications.index"),
            )
        return success(
            f"Le compte de {user.full_name} est créé ; un courriel l'invite à choisir son mot de passe.",
            url_for("admin.accounts_list", role=user.role),
        )

    return handle_post(
        form,
        create,
        on_success=created,
        render=lambda status: (render_template("admin/new_account.html", form=form), status),
    )


@bp.post("/tuteurs/<int:user_id>/valider")
def validate_tutor(user_id: int):
    """Validate a tutor account from the list: through its application's checklist (a 409 naming
    what is missing otherwise, shown on the application's page)."""
    user = db.session.get(User, user_id)
    application = vetting.open_application_of(user) if user is not None else None
    if application is None:
        abort(404)
    page = url_for("applications.detail", application_id=application.id)
    return handle_post(
        ActionForm(),
        lambda: vetting.validate(application, actor=current_user),
        on_success=lambda _: success(
            "Le tuteur est validé : il peut maintenant être proposé.",
            url_for("admin.accounts_list", role=Role.TUTOR),
        ),
        render=lambda status: (redirect(page), 303) if status == 409 else abort(status),
    )


@bp.get("/courriels")
def emails():
    counts = dict(
        db.session.execute(
            select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)
        ).all()
    )
    failed = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.status == MessageStatus.FAILED, OutboxEmail.redacted_at.is_(None))
        .order_by(OutboxEmail.id.desc())
        .limit(200)
    ).all()
    sms_counts = dict(
        db.session.execute(select(OutboxSms.status, func.count()).group_by(OutboxSms.status)).all()
    )
    failed_sms = db.session.scalars(
        select(OutboxSms)
        .where(OutboxSms.status == MessageStatus.FAILED, OutboxSms.redacted_at.is_(None))
        .order_by(OutboxSms.id.desc())
        .limit(200)
    ).all()
    letter_counts = dict(
        db.session.execute(select(Letter.status, func.count()).group_by(Letter.status)).all()
    )
    failed_letters = db.session.scalars(
        select(Letter)
        .where(Letter.status == MessageStatus.FAILED, Letter.redacted_at.is_(None))
        .order_by(Letter.id.desc())
        .limit(200)
    ).all()
    letter_errors = db.session.scalars(
        select(Letter)
        .where(Letter.status == MessageStatus.PENDING, Letter.last_error != "")
        .order_by(Letter.id.desc())
        .limit(200)
    ).all()
    return render_template(
        "admin/emails.html",
        letter_errors=letter_errors,
        counts=counts,
        failed=failed,
        sms_counts=sms_counts,
        failed_sms=failed_sms,
        letter_counts=letter_counts,
        failed_letters=failed_letters,
        action_form=ActionForm(),
    )


@bp.post("/sms/<int:sms_id>/renvoyer")
def retry_sms(sms_id: int):
    message = db.session.get(OutboxSms, sms_id)
    if message is None or message.status != MessageStatus.FAILED or message.redacted_at is not None:
        abort(404)
    return handle_post(
        ActionForm(),
        lambda: sms.retry_failed(message),
        on_success=lambda _: success(
            "Le SMS sera renvoyé au prochain passage de l'envoi.", url_for("admin.emails")
        ),
        render=lambda status: abort(status),
    )


@bp.post("/courriels/<int:email_id>/renvoyer")
def retry_email(email_id: int):
    email = db.session.get(OutboxEmail, email_id)
    # A redacted email (a person it named was erased) is never sent again.
    if email is None or email.status != MessageStatus.FAILED or email.redacted_at is not None:
        abort(404)
    return handle_post(
        ActionForm(),
        lambda: notifications.retry_failed(email),
        on_success=lambda _: success(
            "Le courriel sera renvoyé au prochain passage de l'envoi.", url_for("admin.emails")
        ),
        render=lambda status: abort(status),
    )


@bp.get("/journal")
def access_log():
    """Who saw or changed what, logins, denials — filterable by person and action."""
    action = request.args.get("action", "")
    person = request.args.get("personne", "")
    stmt = select(AccessLog).options(joinedload(AccessLog.actor)).order_by(AccessLog.id.desc())
    status = 200
    if action and not re.fullmatch(r"[a-z_]{1,30}", action):
        flash("Action inconnue : choisissez une action de la liste.", "error")
        action, status = "", 400
    if action:
        stmt = stmt.where(AccessLog.action == action)
    if person:
        if not re.fullmatch(r"[0-9]{1,9}", person):
            flash("Indiquez un numéro de compte (des chiffres seulement).", "error")
            status = 400
        else:
            stmt = stmt.where(
                (AccessLog.actor_id == int(person)) | (AccessLog.subject_id == int(person))
            )
    entries = db.session.scalars(stmt.limit(300)).all()
    actions = db.session.scalars(
        select(AccessLog.action).distinct().order_by(AccessLog.action)
    ).all()
    return render_template(
        "admin/access_log.html",
        entries=entries,
        actions=actions,
        action=action,
        person=person,
        retention=current_app.config["ACCESS_LOG_RETENTION_DAYS"],
    ), status


@bp.get("/effacements")
def erasures():
    users = db.session.scalars(
        select(User)
        .where(User.erasure_requested_at.is_not(None), User.anonymised_at.is_(None))
        .order_by(User.erasure_requested_at)
    ).all()
    return render_template(
        "admin/erasures.html",
        users=users,
        action_form=ActionForm(),
        retention_days=current_app.config["RETENTION_DAYS"],
    )


@bp.post("/comptes/<int:user_id>/anonymiser")
def anonymise(user_id: int):
    user = db.session.get(User, user_id)
    if user is None or user.role == Role.ADMIN or user.anonymised_at is not None:
        abort(404)
    return handle_post(
        ActionForm(),
        lambda: privacy.anonymise(user, actor=current_user),
        on_success=lambda _: success(
            f"Le compte n° {user_id} est anonymisé : plus rien ne permet d'identifier la personne.",
            url_for("admin.erasures"),
        ),
        render=lambda status: abort(status),
    )


@bp.post("/comptes/<int:user_id>/desactiver")
def deactivate(user_id: int):
    user = db.session.get(User, user_id)
    if user is None or user.id == current_user.id:
        abort(404)
    back = url_for(
        "admin.accounts_list", role=user.role if user.role != Role.MENTEE else Role.REFERENT
    )

    def deactivated(report):
        withdrawn = report["propositions retirées"]
        return success(
            f"Le compte de {user.full_name} est désactivé ; toutes ses sessions sont fermées."
            + (
                f" {withdrawn} proposition(s) de binôme en attente retirée(s)." if withdrawn else ""
            ),
            back,
        )

    return handle_post(
        ActionForm(),
        lambda: deactivation.deactivate_account(
            user, actor=current_user, reason="Compte désactivé par l'administration"
        ),
        on_success=deactivated,
        render=lambda status: abort(status) if status == 400 else redirect(back),
    )


WEIGHT_PARTS = ("distance", "sector", "availability", "experience")


@bp.route("/poids", methods=["GET", "POST"])
def weights():
    """The weights of the score. Each proposal keeps the weights it was made with (CRPA)."""
    form = WeightsForm()
    if request.method == "GET":
        current = suggestions.current_weights()
        total = sum(current.to_dict().values()) or 1
        for name in WEIGHT_PARTS:
            getattr(form, name).data = round(100 * getattr(current, name) / total)
    return handle_post(
        form,
        lambda: suggestions.set_weights(
            {name: getattr(form, name).data / 100 for name in WEIGHT_PARTS}, actor=current_user
        ),
        on_success=lambda _: success(
            "Les nouveaux poids sont appliqués aux prochains classements. Les propositions déjà "
            "faites gardent les poids avec lesquels elles ont été calculées.",
            url_for("admin.weights"),
        ),
        render=lambda status: _weights_page(form, MinScoreForm(formdata=None), status),
    )


def _weights_page(form, min_form, status):
    if min_form.min_score.data is None and not min_form.errors:
        current = suggestions.current_min_score()
        min_form.min_score.data = round(100 * current) if current else None
    return (
        render_template(
            "admin/weights.html", form=form, min_form=min_form, labels=matching.PART_LABELS
        ),
        status,
    )


@bp.route("/poids/note-minimale", methods=["GET", "POST"])
def min_score():
    """The minimum score under which no tutor is ranked for a demande nor paired by batch matching."""
    form = MinScoreForm()
    return handle_post(
        form,
        lambda: suggestions.set_min_score(
            None if form.min_score.data is None else form.min_score.data / 100,
            actor=current_user,
        ),
        on_success=lambda _: success(
            "La note minimale est enregistrée : elle s'applique aux prochains classements et à "
            "l'affectation groupée."
            if form.min_score.data
            else "Aucune note minimale : tout tuteur possible est classé.",
            url_for("admin.weights"),
        ),
        render=lambda status: _weights_page(_filled_weights_form(), form, status),
    )


def _filled_weights_form() -> WeightsForm:
    form = WeightsForm(formdata=None)
    current = suggestions.current_weights()
    total = sum(current.to_dict().values()) or 1
    for name in WEIGHT_PARTS:
        getattr(form, name).data = round(100 * getattr(current, name) / total)
    return form


# ---- Beneficiaries of the whole département, référents' caseloads, transfers ----


@bp.get("/beneficiaires")
def beneficiaries():
    filters, number, ok = caseload.parse_filters(request.args)
    result = caseload.list_caseload(filters, number)
    return render_template(
        "admin/beneficiaries.html",
        result=result,
        filters=filters,
        sorts=caseload.SORTS,
        territories=caseload.all_territories(),
        referents=caseload.referents_with_caseload(),
    ), (200 if ok else 400)


@bp.get("/referents")
def referents():
    return render_template("admin/referents.html", referents=caseload.referents_with_caseload())


@bp.route("/transfert", methods=["GET", "POST"])
def transfer():
    form = TransferForm()
    referent_list = caseload.referents_with_caseload()
    form.referent_choices([r for r, _size in referent_list])
    if request.method == "GET":
        form.from_referent.data = request.args.get("de", "")
        form.mentee_ids.data = request.args.getlist("mentee_ids")
    by_id = {str(r.id): r for r, _size in referent_list}
    source = by_id.get(form.from_referent.data or "")
    chosen = [int(v) for v in form.mentee_ids.data or [] if v.isascii() and v.isdigit()]
    people = caseload.people_of(source.id, chosen) if source is not None and chosen else []

    def action():
        if source is None:
            raise DomainError("Choisissez le référent actuel.", field="from_referent")
        return caseload.transfer(
            from_referent=source,
            to_referent=by_id[form.to_referent.data],
            actor=current_user,
            mentee_ids=chosen or None,
            reason=form.reason.data or "",
        )

    return handle_post(
        form,
        action,
        on_success=lambda outcome: success(
            f"{outcome.moved} personne{'s' if outcome.moved > 1 else ''} "
            f"confiée{'s' if outcome.moved > 1 else ''} à {outcome.to_referent.full_name}. "
            "Les deux référents et les personnes qui ont une adresse électronique sont prévenus.",
            url_for("admin.beneficiaries", referent=outcome.to_referent.id),
        ),
        render=lambda status: (
            render_template(
                "admin/transfer.html",
                form=form,
                source=source,
                people=people,
                sizes={r.id: size for r, size in referent_list},
            ),
            status,
        ),
    )


@bp.get("/decisions")
def learned():
    """« Ce que montrent les décisions » : référents' practice, what predicts success, a suggestion."""
    return render_template(
        "admin/decisions.html",
        report=decisions.report(),
        labels=matching.PART_LABELS,
        parts=WEIGHT_PARTS,
        form=AdoptWeightsForm(),
    )


@bp.post("/decisions/adopter")
def adopt_weights():
    """The admin adopts the suggested weights as a new, published version (409 if they changed meanwhile)."""
    form = AdoptWeightsForm()

    def render(status: int):
        return (
            render_template(
                "admin/decisions.html",
                report=decisions.report(),
                labels=matching.PART_LABELS,
                parts=WEIGHT_PARTS,
                form=form,
            ),
            status,
        )

    return handle_post(
        form,
        lambda: decisions.adopt(
            form.values(), expected_version=form.version.data, actor=current_user
        ),
        on_success=lambda version: success(
            f"Les poids de la version {version.number} sont adoptés et publiés sur la page "
            "« Comment Tutorat propose un tuteur ». Ils s'appliquent aux prochains classements.",
            url_for("admin.learned"),
        ),
        render=render,
    )


@bp.get("/binomes/<int:pair_id>/attestation.pdf")
def tutor_attestation(pair_id: int):
    """The tutor's « attestation de bénévolat », for the administration (a tutor who lost theirs)."""
    pair = db.session.get(Pair, pair_id)
    if pair is None or not attestation.available(pair):
        abort(404)
    response = current_app.response_class(
        attestation.attestation_pdf(pair), mimetype="application/pdf"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="attestation-benevolat-{pair.id}.pdf"'
    )
    return response
