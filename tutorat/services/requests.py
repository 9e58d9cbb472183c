"""Demandes de tutorat: open and cancel."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import MenteeProfile, Pair, TutoringRequest, TutoringRequestStatus, User
from tutorat.models.pairs import LIVE_PAIR_STATUSES
from tutorat.models.requests import LIVE_REQUEST_STATUSES, UNMATCHED_REQUEST_STATUSES
from tutorat.services.db import integrity_message
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.workflow import record_creation, transition


def live_request(mentee: User) -> TutoringRequest | None:
    return db.session.scalars(
        select(TutoringRequest).where(
            TutoringRequest.mentee_id == mentee.id,
            TutoringRequest.status.in_(LIVE_REQUEST_STATUSES),
        )
    ).first()


def why_no_new_request(mentee: User) -> str | None:
    """The French reason why `mentee` cannot open a demande now, or None if they can."""
    if live_request(mentee) is not None:
        return (
            "Une demande de tutorat est déjà en cours : vous ne pouvez en avoir qu'une à la fois."
        )
    has_live_pair = db.session.scalar(
        select(Pair.id).where(Pair.mentee_id == mentee.id, Pair.status.in_(LIVE_PAIR_STATUSES))
    )
    if has_live_pair:
        return (
            "Un binôme est déjà en cours : une nouvelle demande n'est pas possible pour l'instant."
        )
    return None


def open_request(
    mentee: User,
    *,
    actor: User,
    topics: list[str],
    meeting_modes: list[str],
    message: str,
    constraints: str = "",
    now: datetime | None = None,
) -> TutoringRequest:
    """Open a demande for `mentee` (by themself or their référent acting for them), at `now`."""
    now = now or datetime.now(UTC)
    profile = db.session.get(MenteeProfile, mentee.id)
    if profile is None:
        raise DomainError("Seul un bénéficiaire peut demander un tuteur.")
    if not profile.is_complete:
        raise DomainError(
            "Complétez d'abord le profil (commune, métier visé, disponibilités) avant de demander un tuteur."
        )
    if not topics:
        raise DomainError(
            "Choisissez au moins un sujet sur lequel vous voulez de l'aide.", field="topics"
        )
    if any(t not in vocab.TOPICS for t in topics) or any(
        m not in vocab.MEETING_MODES for m in meeting_modes
    ):
        raise DomainError("Choix inconnu : choisissez dans la liste proposée.")
    reason = why_no_new_request(mentee)
    if reason:
        raise Conflict(reason)
    request = TutoringRequest(
        mentee_id=mentee.id,
        created_by_id=actor.id,
        status=TutoringRequestStatus.OPEN,
        topics=",".join(topics),
        meeting_modes=",".join(meeting_modes),
        message=message.strip(),
        constraints=constraints.strip(),
        created_at=now,
        updated_at=now,
    )
    db.session.add(request)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(integrity_message(exc)) from exc
    record_creation(
        request, actor=actor, on_behalf_of=mentee if actor.id != mentee.id else None, now=now
    )
    return request


def cancel_request(
    request: TutoringRequest, *, actor: User, reason: str = "", now: datetime | None = None
) -> None:
    if request.status not in UNMATCHED_REQUEST_STATUSES:
        raise Conflict(
            "Seule une demande en attente (sans proposition en cours) peut être annulée."
        )
    on_behalf = request.mentee if actor.id != request.mentee_id else None
    transition(
        request,
        TutoringRequestStatus.CANCELLED,
        actor=actor,
        reason=reason,
        on_behalf_of=on_behalf,
        now=now,
    )


def put_on_waiting_list(
    request: TutoringRequest, *, actor: User, reason: str, now: datetime | None = None
) -> None:
    """The référent sets a demande aside until a tutor fits: it leaves the urgent list, and
    `run-reminders` brings it back (and tells the référent) as soon as one does."""
    profile = request.mentee.mentee_profile
    if not actor.is_referent or profile is None or profile.referent_id != actor.id:
        raise DomainError("Seul le référent de cette personne peut faire cette action.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Indiquez pourquoi la demande passe en liste d'attente.", field="reason")
    if request.status != TutoringRequestStatus.OPEN:
        raise Conflict(
            "Seule une demande en attente d'une proposition peut passer en liste d'attente "
            "(elle a une proposition en cours, un binôme, ou y est déjà)."
        )
    transition(
        request,
        TutoringRequestStatus.WAITING,
        actor=actor,
        reason=f"Liste d'attente : {reason}",
        now=now or datetime.now(UTC),
    )


def leave_waiting_list(request: TutoringRequest, *, actor: User | None, reason: str, now=None):
    """Back to the référent's queue (by the référent, or by run-reminders when a tutor fits)."""
    if actor is not None:
        profile = request.mentee.mentee_profile
        if not actor.is_referent or profile is None or profile.referent_id != actor.id:
            raise DomainError("Seul le référent de cette personne peut faire cette action.")
    if request.status != TutoringRequestStatus.WAITING:
        raise Conflict("Cette demande n'est pas (ou plus) en liste d'attente.")
    transition(
        request,
        TutoringRequestStatus.OPEN,
        actor=actor,
        reason=reason,
        now=now or datetime.now(UTC),
    )
