"""Deactivating an account: in the same transaction, nothing stays pending on a person who has left.

A deactivated person can no longer log in, and must not be left in a proposal that others still
answer or confirm: their pending proposals are withdrawn (through the workflow, with an event
each), the other people concerned are told by email (queued in the outbox), a mentee's open
demande is closed, and the référent of an active binôme is told (the binôme itself is not ended:
its outcome is the référent's to record).

The account row is locked (SELECT … FOR UPDATE on PostgreSQL) before anything is read, and
`pairs.answer` / `pairs.confirm` read both people's accounts under a shared lock (FOR SHARE):
either the acceptance commits first and its binôme is then withdrawn here, or the deactivation
commits first and the acceptance is refused. Both cannot succeed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    AccessAction,
    Pair,
    PairOutcome,
    PairStatus,
    Role,
    TutoringRequest,
    TutoringRequestStatus,
    User,
)
from tutorat.models.pairs import PENDING_PAIR_STATUSES, RUNNING_PAIR_STATUSES
from tutorat.models.requests import UNMATCHED_REQUEST_STATUSES
from tutorat.services import accounts, audit
from tutorat.services import pairs as pair_service
from tutorat.services.notifications import queue_email
from tutorat.services.workflow import move_request_after, transition

DEFAULT_REASON = "Compte désactivé"


def deactivate_account(
    user: User, actor: User | None, reason: str = "", *, notify: bool = True
) -> dict[str, int]:
    """Deactivate `user` and close what was pending on them; the caller commits once.

    Returns how many proposals were withdrawn, demandes closed and active binômes reported.
    `notify=False` (anonymisation): the same changes and events, but no email about the person.
    """
    reason = (reason or "").strip() or DEFAULT_REASON
    # Taken first, held until the commit: a concurrent acceptance or confirmation waits for it.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    user.active = False
    accounts.end_all_sessions(user)
    db.session.flush()
    report = {
        "propositions retirées": 0,
        "demandes closes": 0,
        "binômes actifs signalés": 0,
        "binômes arrêtés": 0,
    }

    person_pairs = (
        select(Pair)
        .where(or_(Pair.tutor_id == user.id, Pair.mentee_id == user.id))
        .order_by(Pair.id)
        # Statuses as committed now, not as an earlier read of this request left them.
        .execution_options(populate_existing=True)
    )
    for pair in db.session.scalars(person_pairs.where(Pair.status.in_(PENDING_PAIR_STATUSES))):
        _withdraw(pair, user, actor, reason, notify=notify)
        report["propositions retirées"] += 1
    for pair in db.session.scalars(person_pairs.where(Pair.status.in_(RUNNING_PAIR_STATUSES))):
        if not notify:
            # Anonymisation: the person is gone, the binôme cannot go on.
            _end_for_erasure(pair, user, actor)
            report["binômes arrêtés"] += 1
            continue
        referent = pair.referent
        queue_email("pair_person_deactivated", referent, pair=pair, deactivated=user)
        report["binômes actifs signalés"] += 1
    if user.is_mentee:
        tutoring_requests = db.session.scalars(
            select(TutoringRequest)
            .where(
                TutoringRequest.mentee_id == user.id,
                TutoringRequest.status.in_(UNMATCHED_REQUEST_STATUSES),
            )
            .execution_options(populate_existing=True)
        )
        for tutoring_request in tutoring_requests:
            transition(
                tutoring_request, TutoringRequestStatus.CANCELLED, actor=actor, reason=reason
            )
            report["demandes closes"] += 1
    audit.note(
        AccessAction.DEACTIVATION, target=f"compte n° {user.id}", subject_id=user.id, actor=actor
    )
    return report


def _end_for_erasure(pair: Pair, user: User, actor: User | None) -> None:
    """An active binôme of a person being anonymised: ended without result (no email names them).

    When the tutor is the one erased, the mentee's demande goes back to the queue for a new
    proposal, as after any binôme stopped without result."""
    now = datetime.now(UTC)
    transition(
        pair,
        PairStatus.ENDED,
        actor=actor,
        reason="Arrêté : les données d'une personne du binôme ont été effacées",
        now=now,
    )
    pair.outcome_rows = [PairOutcome(outcome=vocab.STOPPED_OUTCOME, reason="other")]
    pair.ended_at = pair.updated_at = now
    pair.paused_until = None
    pair_service.free_place(pair.tutor_id, now)
    if user.id == pair.tutor_id:
        move_request_after(
            pair.request,
            PairStatus.ENDED,
            actor=actor,
            reason=f"Binôme n° {pair.id} arrêté : nouvelle proposition",
            now=now,
        )


def _withdraw(pair: Pair, user: User, actor: User | None, reason: str, *, notify: bool) -> None:
    """One pending proposal of the deactivated person: withdrawn, the place freed, others told."""
    # No name in the reason: the other person may read this history.
    who = "du bénéficiaire" if user.id == pair.mentee_id else "du tuteur"
    transition(
        pair, PairStatus.WITHDRAWN, actor=actor, reason=f"Retiré : le compte {who} est désactivé"
    )
    pair_service.free_place(pair.tutor_id)
    if user.id == pair.mentee_id:
        transition(
            pair.request,
            TutoringRequestStatus.CANCELLED,
            actor=actor,
            reason=f"{reason} (bénéficiaire)",
        )
    else:
        move_request_after(
            pair.request,
            PairStatus.WITHDRAWN,
            actor=actor,
            reason=f"Binôme n° {pair.id} retiré : le tuteur n'est plus inscrit",
        )
    if not notify:
        return
    referent = pair.referent
    others = [(Role.REFERENT, referent)]
    others.append(
        (Role.MENTEE, pair.mentee) if user.id == pair.tutor_id else (Role.TUTOR, pair.tutor)
    )
    for side, person in others:
        queue_email("pair_withdrawn", person, pair=pair, side=side, deactivated=user)
