"""Who may see what: role guards per blueprint and role-scoped queries (someone else's object is a 404)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, false, select
from sqlalchemy.sql.base import ExecutableOption
from sqlalchemy.sql.elements import BindParameter

from tutorat import access_log
from tutorat.extensions import db, login_manager
from tutorat.models import Letter, MenteeProfile, Pair, Role, TutoringRequest, User


def guard_blueprint(bp, *roles: Role) -> None:
    """Deny by default: every view of `bp` requires a logged-in user with one of `roles`."""

    @bp.before_request
    def _guard():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role not in {r.value for r in roles}:
            abort(403)
        return None


def in_caseload(stmt: Select, mentee_id: Any, referent: int | BindParameter) -> Select:
    """`stmt` narrowed to the rows whose mentee (`mentee_id`) is in the caseload of `referent`: an id,
    or a bound parameter for a statement built once and run with the référent's id."""
    return stmt.join(MenteeProfile, MenteeProfile.user_id == mentee_id).where(
        MenteeProfile.referent_id == referent
    )


def visible_mentees(user: User) -> Select:
    """Mentees a user may see: a référent sees their own caseload; a mentee sees themself."""
    stmt = select(User).join(MenteeProfile, MenteeProfile.user_id == User.id)
    if user.role == Role.REFERENT:
        return stmt.where(MenteeProfile.referent_id == user.id)
    if user.role == Role.MENTEE:
        return stmt.where(User.id == user.id)
    return stmt.where(false())


def visible_requests(user: User) -> Select:
    stmt = select(TutoringRequest)
    if user.role == Role.REFERENT:
        return in_caseload(stmt, TutoringRequest.mentee_id, user.id)
    if user.role == Role.MENTEE:
        return stmt.where(TutoringRequest.mentee_id == user.id)
    return stmt.where(false())


def visible_pairs(user: User) -> Select:
    stmt = select(Pair)
    if user.role == Role.REFERENT:
        return in_caseload(stmt, Pair.mentee_id, user.id)
    if user.role == Role.TUTOR:
        return stmt.where(Pair.tutor_id == user.id)
    if user.role == Role.MENTEE:
        return stmt.where(Pair.mentee_id == user.id)
    return stmt.where(false())


def visible_letters(user: User) -> Select:
    """Letters a référent prints: those queued for them."""
    stmt = select(Letter)
    if user.role == Role.REFERENT:
        return stmt.where(Letter.referent_id == user.id)
    return stmt.where(false())


def get_or_404(
    scoped: Callable[[User], Select],
    model,
    obj_id: int,
    *,
    for_update: bool = False,
    options: Sequence[ExecutableOption] = (),
):
    """Fetch `model` #obj_id through the scoped query of the current user, or 404.

    `options`: loader options (what the page shows of the related rows, in the same query)."""
    stmt = scoped(current_user).where(model.id == obj_id)
    if options:
        stmt = stmt.options(*options)
    if for_update:
        stmt = stmt.with_for_update(of=model)
    obj = db.session.scalars(stmt).first()
    if obj is None:
        abort(404)
    mentee_id = getattr(obj, "mentee_id", None)
    if mentee_id is not None:
        access_log.record_subject(mentee_id)
    return obj


def found_or_404(obj, mentee_id: int | None = None):
    """`obj` read by a scoped statement of the caller's own (None: a 404); the record of its
    mentee is noted for the access log, as `get_or_404` does."""
    if obj is None:
        abort(404)
    if mentee_id is not None:
        access_log.record_subject(mentee_id)
    return obj


def get_mentee_or_404(user_id: int) -> User:
    stmt = visible_mentees(current_user).where(User.id == user_id)
    obj = db.session.scalars(stmt).first()
    if obj is None:
        abort(404)
    access_log.record_subject(obj.id)
    return obj
