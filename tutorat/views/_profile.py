"""The mentee's profile and demande forms, shared by the mentee and their référent acting for them."""

from __future__ import annotations

from flask import request

from tutorat.forms import MenteeProfileForm, RequestForm
from tutorat.models import MenteeProfile, User
from tutorat.services import profiles, reference
from tutorat.services import requests as request_service
from tutorat.services.errors import DomainError
from tutorat.views._helpers import commit_or_error, form_errors_status, show_error


def mentee_profile_form(profile: MenteeProfile) -> MenteeProfileForm:
    form = MenteeProfileForm()
    if request.method == "GET":
        if profile.commune is not None:
            form.commune.data = profile.commune.label
        labels = reference.metier_labels(profile.metier_codes)
        for field, code in zip((form.metier_1, form.metier_2), profile.metier_codes, strict=False):
            field.data = f"{labels.get(code, code)} — {code}"
        if profile.availability:
            form.slots.set_mask(profile.availability)
        form.has_car.data = "oui" if profile.has_car else ("non" if profile.completed_at else None)
        form.max_km.data = profile.max_km
        form.remote_ok.data = profile.remote_ok
        form.obstacles.data = profile.obstacle_codes
        form.shares.data = [f for f in profiles.SHARE_FIELDS if getattr(profile, f"share_{f}")]
    return form


def save_mentee_profile(profile: MenteeProfile, form: MenteeProfileForm) -> tuple[bool, int]:
    """Validate and save; returns (saved, HTTP status)."""
    if not form.validate_on_submit():
        return False, form_errors_status(form) if request.method == "POST" else 200
    try:
        profiles.update_mentee_profile(
            profile,
            commune_code=form.commune_obj.code_insee,
            metier_codes=[h.code for h in form.metier_hits],
            availability=form.slots.mask,
            has_car=form.has_car.data == "oui",
            max_km=form.max_km.data,
            remote_ok=bool(form.remote_ok.data),
            obstacles=list(form.obstacles.data or []),
            shares={f: f in (form.shares.data or []) for f in profiles.SHARE_FIELDS},
        )
    except DomainError as error:
        return False, show_error(error, form)
    return commit_or_error()


def open_request_from_form(
    mentee: User, actor: User, form: RequestForm
) -> tuple[object | None, int]:
    if not form.validate_on_submit():
        return None, form_errors_status(form) if request.method == "POST" else 200
    try:
        demande = request_service.open_request(
            mentee,
            actor=actor,
            topics=list(form.topics.data or []),
            meeting_modes=list(form.meeting_modes.data or []),
            message=form.message.data or "",
            constraints=form.constraints.data or "",
        )
    except DomainError as error:
        return None, show_error(error, form)
    ok, status = commit_or_error()
    return (demande if ok else None), status
