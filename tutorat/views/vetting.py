"""The administration vets tutor applications: the « À examiner » list, a profile, the checklist, the decision."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from tutorat.extensions import db
from tutorat.forms import ActionForm, CheckForm, LoopMonthsForm, RefuseForm
from tutorat.models import (
    ApplicationEvent,
    ApplicationStatus,
    ChecklistItem,
    Commune,
    Role,
    RomeGrandDomaine,
    TutorApplication,
    TutorProfile,
)
from tutorat.permissions import guard_blueprint
from tutorat.services import charter, loop, vetting
from tutorat.views._helpers import handle_post, success

bp = Blueprint("applications", __name__, url_prefix="/admin/candidatures")
guard_blueprint(bp, Role.ADMIN)

# « Âge » filter: how long the application has waited.
AGES = {
    "": "toutes",
    "7": "moins de 7 jours",
    "30": "de 7 à 30 jours",
    "plus": "plus de 30 jours",
}
# The items the administration records with a date (the charter is accepted by the person).
DATED_ITEMS = (ChecklistItem.IDENTITY, ChecklistItem.CRIMINAL_RECORD, ChecklistItem.INFO_MEETING)


@bp.get("/")
def index(loop_form: LoopMonthsForm | None = None, status_code: int | None = None):
    status_raw = request.args.get("statut", ApplicationStatus.TO_REVIEW.value)
    canton = request.args.get("canton", "")
    domain = request.args.get("domaine", "")
    age = request.args.get("age", "")
    errors = []
    try:
        status = ApplicationStatus(status_raw)
    except ValueError:
        errors.append("État inconnu : choisissez dans la liste.")
        status = ApplicationStatus.TO_REVIEW
    if canton and not re.fullmatch(r"[0-9AB]{4}", canton):
        errors.append("Canton inconnu : choisissez dans la liste.")
        canton = ""
    if domain and not re.fullmatch(r"[A-N]", domain):
        errors.append("Grand domaine inconnu : choisissez dans la liste.")
        domain = ""
    if age not in AGES:
        errors.append("Ancienneté inconnue : choisissez dans la liste.")
        age = ""
    for message in errors:
        flash(message, "error")
    stmt = (
        select(TutorApplication)
        .options(
            joinedload(TutorApplication.commune),
            joinedload(TutorApplication.metier),
            joinedload(TutorApplication.suggested_by),
        )
        .where(TutorApplication.status == status)
        .order_by(TutorApplication.submitted_at, TutorApplication.id)
    )
    if canton:
        stmt = stmt.where(
            TutorApplication.commune_code.in_(
                select(Commune.code_insee).where(Commune.canton_code == canton)
            )
        )
    if domain:
        stmt = stmt.where(TutorApplication.metier_code.startswith(domain))
    now = datetime.now(UTC)
    if age == "7":
        stmt = stmt.where(TutorApplication.submitted_at >= now - timedelta(days=7))
    elif age == "30":
        stmt = stmt.where(
            TutorApplication.submitted_at < now - timedelta(days=7),
            TutorApplication.submitted_at >= now - timedelta(days=30),
        )
    elif age == "plus":
        stmt = stmt.where(TutorApplication.submitted_at < now - timedelta(days=30))
    applications = db.session.scalars(stmt.limit(300)).unique().all()
    cantons = db.session.execute(
        select(Commune.canton_code, Commune.canton_nom).distinct().order_by(Commune.canton_nom)
    ).all()
    domains = db.session.scalars(select(RomeGrandDomaine).order_by(RomeGrandDomaine.code)).all()
    # The pipeline at a glance: how many applications in each state.
    by_status = dict(
        db.session.execute(
            select(TutorApplication.status, func.count()).group_by(TutorApplication.status)
        ).all()
    )
    return render_template(
        "admin/applications.html",
        applications=applications,
        missing={a.id: vetting.missing_items(a) for a in applications},
        status=status,
        canton=canton,
        domain=domain,
        age=age,
        ages=AGES,
        cantons=cantons,
        domains=domains,
        statuses=list(ApplicationStatus),
        by_status=by_status,
        now=now,
        loop_form=loop_form or _loop_form(),
    ), (400 if errors else 200) if status_code is None else status_code


def _loop_form() -> LoopMonthsForm:
    form = LoopMonthsForm(prefix="loop")
    form.months.data = loop.invite_months()
    return form


@bp.post("/reglage-anciens-beneficiaires")
def loop_setting():
    """After how many months a former mentee who said yes is invited to apply."""
    form = LoopMonthsForm(prefix="loop")
    return handle_post(
        form,
        lambda: loop.set_invite_months(form.months.data, actor=current_user),
        on_success=lambda months: success(
            f"Les anciens bénéficiaires qui l'ont accepté seront invités {months} mois après la "
            "fin de leur binôme.",
            url_for("applications.index"),
        ),
        render=lambda status: index(loop_form=form, status_code=status),
    )


def _get(application_id: int) -> TutorApplication:
    application = db.session.get(TutorApplication, application_id)
    if application is None:
        abort(404)
    return application


def _page(
    application: TutorApplication,
    *,
    status: int = 200,
    forms: dict | None = None,
    refuse_form: RefuseForm | None = None,
):
    forms = forms or {}
    check_forms = {
        item: forms.get(item) or CheckForm(prefix=item.value, formdata=None) for item in DATED_ITEMS
    }
    events = db.session.scalars(
        select(ApplicationEvent)
        .options(joinedload(ApplicationEvent.actor))
        .where(ApplicationEvent.application_id == application.id)
        .order_by(ApplicationEvent.at, ApplicationEvent.id)
    ).all()
    profile = (
        db.session.get(TutorProfile, application.tutor_id)
        if application.tutor_id is not None
        else None
    )
    return render_template(
        "admin/application.html",
        application=application,
        place=application if application.commune_code or profile is None else profile,
        profile=profile,
        missing=vetting.missing_items(application),
        check_forms=check_forms,
        refuse_form=refuse_form or RefuseForm(formdata=None),
        action_form=ActionForm(),
        events=events,
        items=list(ChecklistItem),
        charter_version=charter.CURRENT_VERSION,
    ), status


@bp.get("/<int:application_id>")
def detail(application_id: int):
    return _page(_get(application_id))


@bp.post("/<int:application_id>/verification/<item>")
def check(application_id: int, item: str):
    application = _get(application_id)
    try:
        checklist_item = ChecklistItem(item)
    except ValueError:
        abort(404)
    if checklist_item not in DATED_ITEMS:
        abort(404)
    form = CheckForm(prefix=checklist_item.value)
    return handle_post(
        form,
        lambda: vetting.record_check(
            application, checklist_item, form.day.data, actor=current_user
        ),
        on_success=lambda _: success(
            f"Enregistré : {checklist_item.label}.",
            url_for("applications.detail", application_id=application.id),
        ),
        render=lambda status: _page(application, status=status, forms={checklist_item: form}),
    )


@bp.post("/<int:application_id>/valider")
def validate(application_id: int):
    application = _get(application_id)
    return handle_post(
        ActionForm(),
        lambda: vetting.validate(application, actor=current_user),
        on_success=lambda tutor: success(
            f"{tutor.full_name} est validé : un courriel lui a été envoyé, et il peut maintenant "
            "être proposé.",
            url_for("applications.index"),
        ),
        render=lambda status: _page(application, status=status),
    )


@bp.post("/<int:application_id>/refuser")
def refuse(application_id: int):
    application = _get(application_id)
    form = RefuseForm()
    return handle_post(
        form,
        lambda: vetting.refuse(application, form.reason.data or "", actor=current_user),
        on_success=lambda _: success(
            "La candidature est refusée ; la raison a été envoyée à la personne par courriel.",
            url_for("applications.index"),
        ),
        render=lambda status: _page(application, status=status, refuse_form=form),
    )
