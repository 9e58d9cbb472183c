"""Demandes de tutorat: open and cancel."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import MenteeProfile, Pair, TutoringRequest, TutoringRequestStatus, User
from tutorat.models.pairs import LIVE_PAIR_STATUSES
from tutorat.models.requests import LIVE_REQUEST_STATUSES
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
    if request.status != TutoringRequestStatus.OPEN:
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
