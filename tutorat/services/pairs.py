"""Binômes: propose, answer, confirm, withdraw, end — every status change goes through `workflow`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    Pair,
    PairAnswer,
    PairOutcome,
    PairStatus,
    Role,
    TutoringRequest,
    TutoringRequestStatus,
    TutorProfile,
    User,
)
from tutorat.services import loop, suggestions, voices
from tutorat.services.db import changed_rows, integrity_message
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.notifications import queue_email
from tutorat.services.workflow import move_request_after, record_creation, transition

# Who accepted first: the status a proposal moves to when only this side has accepted.
ACCEPTED_BY = {Role.TUTOR: PairStatus.TUTOR_ACCEPTED, Role.MENTEE: PairStatus.MENTEE_ACCEPTED}


def _take_place(tutor_id: int, now: datetime) -> None:
    """Take one of the tutor's places, atomically: works the same on SQLite and PostgreSQL."""
    result = db.session.execute(
        update(TutorProfile)
        .where(TutorProfile.user_id == tutor_id, TutorProfile.places_used < TutorProfile.capacity)
        .values(places_used=TutorProfile.places_used + 1, last_asked_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed_rows(result) != 1:
        raise Conflict("Ce tuteur n'a plus de place disponible. Choisissez un autre tuteur.")
    profile = db.session.get(TutorProfile, tutor_id)
    if profile is not None:
        db.session.expire(profile, ["places_used", "last_asked_at"])


def free_place(tutor_id: int, now: datetime | None = None, *, rest: bool = False) -> None:
    """Give a tutor back one place (and, after a binôme that ran, the rest period)."""
    values: dict = {"places_used": TutorProfile.places_used - 1}
    if rest:
        values["rest_until"] = (now or datetime.now(UTC)) + timedelta(
            days=current_app.config["TUTOR_REST_DAYS"]
        )
    db.session.execute(
        update(TutorProfile)
        .where(TutorProfile.user_id == tutor_id, TutorProfile.places_used > 0)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    profile = db.session.get(TutorProfile, tutor_id)
    if profile is not None:
        db.session.expire(profile)


def _check_people_active(pair: Pair) -> None:
    """Both people of `pair` still have an active account, read under a shared row lock.

    FOR SHARE (PostgreSQL) is held until the commit: a deactivation (which locks the account FOR
    UPDATE, `services.deactivation`) either committed before this read, and is seen, or waits
    until this transaction ends, and then withdraws what it finds.
    """
    rows = db.session.execute(
        select(User.id, User.active)
        .where(User.id.in_((pair.tutor_id, pair.mentee_id)))
        .order_by(User.id)
        .with_for_update(read=True)
    ).all()
    active = {user_id for user_id, is_active in rows if is_active}
    if pair.tutor_id not in active:
        raise Conflict(
            "Le compte du tuteur a été désactivé : ce binôme ne peut plus être accepté ni "
            "confirmé. Proposez un autre tuteur."
        )
    if pair.mentee_id not in active:
        raise Conflict(
            "Le compte du bénéficiaire a été désactivé : ce binôme ne peut plus être accepté ni "
            "confirmé."
        )


def _check_referent(pair_or_request: Pair | TutoringRequest, actor: User) -> None:
    profile = pair_or_request.mentee.mentee_profile
    if not actor.is_referent or profile is None or profile.referent_id != actor.id:
        raise DomainError("Seul le référent de cette personne peut faire cette action.")


def propose(
    request: TutoringRequest,
    tutor_id: int,
    *,
    actor: User,
    now: datetime | None = None,
    record_shown: bool = True,
) -> Pair:
    """The référent proposes tutor `tutor_id` for `request`; the score and its reasons are kept.

    With `record_shown`, the ranked list the référent chose from is kept too (batch matching, which
    chooses by the score alone, passes False: its choices teach nothing about référents' practice).
    """
    now = now or datetime.now(UTC)
    _check_referent(request, actor)
    if request.status != TutoringRequestStatus.OPEN:
        raise Conflict("Cette demande a déjà une proposition en cours ou n'est plus ouverte.")
    suggestions.check_not_declined(request, tutor_id)
    explanation, mentee_commune, tutor_commune = suggestions.explain_pair(request, tutor_id)
    rank, feasible = suggestions.rank_of(request, tutor_id)
    shown = suggestions.shown_candidates(request) if record_shown else None
    place = "" if explanation.remote else suggestions.meeting_place(mentee_commune, tutor_commune)
    return _create(
        request,
        tutor_id,
        actor=actor,
        now=now,
        shown=shown,
        score=float(explanation.score),
        rank=rank,
        feasible=feasible,
        explanation=suggestions.explanation_dict(explanation),
        place=place,
        reason=f"Score {explanation.score:.2f}, rang {rank} sur {feasible}"
        if rank is not None
        else f"Score {explanation.score:.2f}",
    )


def propose_outside(
    request: TutoringRequest,
    tutor_id: int,
    *,
    reason: str,
    actor: User,
    now: datetime | None = None,
) -> Pair:
    """The référent proposes a tutor of their choosing, outside the ranking, and says why.

    Distance and common slots may be overridden (the référent knows the person); capacity, rest
    and a refusal of this demande still hold. The proposal records that the algorithm had no part
    in the choice (CRPA): no rank, the reason in its event and in its explanation.
    """
    now = now or datetime.now(UTC)
    _check_referent(request, actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            "Indiquez pourquoi vous proposez ce tuteur hors classement : la raison est "
            "enregistrée avec la proposition.",
            field="reason",
        )
    if request.status != TutoringRequestStatus.OPEN:
        raise Conflict("Cette demande a déjà une proposition en cours ou n'est plus ouverte.")
    suggestions.check_not_declined(request, tutor_id)
    explanation, mentee_commune, tutor_commune = suggestions.explain_outside(request, tutor_id, now)
    _, feasible = suggestions.rank_of(request, tutor_id)
    data = suggestions.explanation_dict(explanation)
    data.update(outside_ranking=True, outside_reason=reason)
    place = (
        suggestions.meeting_place(mentee_commune, tutor_commune)
        if explanation.feasible and not explanation.remote
        else ""
    )
    return _create(
        request,
        tutor_id,
        actor=actor,
        now=now,
        # The ranking the référent set aside, kept as for any proposal.
        shown=suggestions.shown_candidates(request),
        score=float(explanation.score) if explanation.feasible else None,
        rank=None,
        feasible=feasible,
        explanation=data,
        place=place,
        reason=f"Proposé hors classement : {reason}",
    )


def _create(
    request: TutoringRequest,
    tutor_id: int,
    *,
    actor: User,
    now: datetime,
    shown: list | None,
    score: float | None,
    rank: int | None,
    feasible: int,
    explanation: dict,
    place: str,
    reason: str,
) -> Pair:
    """Take a place of the tutor, create the proposal, its event, move the demande, queue emails."""
    _take_place(tutor_id, now)
    pair = Pair(
        request_id=request.id,
        mentee_id=request.mentee_id,
        tutor_id=tutor_id,
        proposed_by_id=actor.id,
        status=PairStatus.PROPOSED,
        score=score,
        rank=rank,
        candidates_count=feasible,
        explanation=explanation,
        weights=suggestions.current_weights().to_dict(),
        shown_candidates=shown,
        algorithm_version=suggestions.ALGORITHM_VERSION,
        meeting_place=place,
        proposed_at=now,
        updated_at=now,
    )
    db.session.add(pair)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(integrity_message(exc)) from exc
    record_creation(pair, actor=actor, now=now, reason=reason)
    move_request_after(
        request,
        PairStatus.PROPOSED,
        actor=actor,
        reason=f"Binôme n° {pair.id} proposé",
        now=now,
    )
    tutor = db.session.get_one(User, tutor_id)
    queue_email("proposal_tutor", tutor, pair=pair)
    queue_email("proposal_mentee", request.mentee, pair=pair)
    return pair


def answer(
    pair: Pair,
    *,
    side: Role,
    accept: bool,
    actor: User,
    reason: str | None = None,
    detail: str = "",
    now: datetime | None = None,
) -> None:
    """The tutor or the mentee (or the référent for the mentee) accepts or declines a proposal."""
    now = now or datetime.now(UTC)
    if side not in ACCEPTED_BY:
        raise DomainError("Réponse inconnue.")
    if side == Role.TUTOR and actor.id != pair.tutor_id:
        raise DomainError("Seul le tuteur proposé peut répondre pour lui-même.")
    on_behalf = None
    if side == Role.MENTEE and actor.id != pair.mentee_id:
        _check_referent(pair, actor)
        on_behalf = pair.mentee
    if getattr(pair, f"{side}_answer") is not None or not pair.is_unanswered:
        raise Conflict("Une réponse a déjà été donnée à cette proposition.")
    if accept:
        _check_people_active(pair)
        other_accepted = pair.status in ACCEPTED_BY.values() and pair.status != ACCEPTED_BY[side]
        to = PairStatus.ACCEPTED if other_accepted else ACCEPTED_BY[side]
        transition(
            pair,
            to,
            actor=actor,
            on_behalf_of=on_behalf,
            reason="Accepté par le tuteur" if side == Role.TUTOR else "Accepté par le bénéficiaire",
            now=now,
        )
        setattr(pair, f"{side}_answer", PairAnswer.ACCEPTED)
        pair.updated_at = now
        referent = pair.referent
        if to == PairStatus.ACCEPTED:
            queue_email("pair_accepted", referent, pair=pair)
        elif referent.id != actor.id:
            queue_email("pair_answer", referent, pair=pair, side=side)
        return
    if reason not in vocab.DECLINE_REASONS:
        raise DomainError("Choisissez la raison du refus dans la liste.", field="reason")
    if reason == "other" and not detail.strip():
        raise DomainError("Précisez la raison du refus.", field="detail")
    transition(
        pair,
        PairStatus.DECLINED,
        actor=actor,
        on_behalf_of=on_behalf,
        reason=f"{vocab.DECLINE_REASONS[reason]} {detail}".strip(),
        now=now,
    )
    setattr(pair, f"{side}_answer", PairAnswer.DECLINED)
    pair.decline_reason = reason
    pair.decline_detail = detail.strip()
    pair.updated_at = now
    free_place(pair.tutor_id, now)
    move_request_after(
        pair.request,
        PairStatus.DECLINED,
        actor=actor,
        reason=f"Binôme n° {pair.id} refusé",
        now=now,
    )
    queue_email("pair_declined", pair.referent, pair=pair)


def confirm(pair: Pair, *, actor: User, now: datetime | None = None) -> None:
    """The référent confirms a binôme both people accepted: it becomes active."""
    now = now or datetime.now(UTC)
    _check_referent(pair, actor)
    if pair.status != PairStatus.ACCEPTED:
        raise Conflict(
            "Le binôme ne peut être confirmé qu'une fois accepté par les deux personnes."
        )
    _check_people_active(pair)
    transition(
        pair, PairStatus.ACTIVE, actor=actor, reason="Binôme confirmé par le référent", now=now
    )
    move_request_after(
        pair.request,
        PairStatus.ACTIVE,
        actor=actor,
        reason=f"Binôme n° {pair.id} actif",
        now=now,
    )
    pair.confirmed_at = pair.updated_at = now
    queue_email("pair_confirmed_tutor", pair.tutor, pair=pair)
    queue_email("pair_confirmed_mentee", pair.mentee, pair=pair)


def withdraw(pair: Pair, *, actor: User, reason: str = "", now: datetime | None = None) -> None:
    _check_referent(pair, actor)
    if not pair.is_pending:
        raise Conflict("Seule une proposition en attente peut être retirée.")
    now = now or datetime.now(UTC)
    transition(
        pair, PairStatus.WITHDRAWN, actor=actor, reason=reason or "Retiré par le référent", now=now
    )
    free_place(pair.tutor_id, now)
    move_request_after(
        pair.request,
        PairStatus.WITHDRAWN,
        actor=actor,
        reason=f"Binôme n° {pair.id} retiré",
        now=now,
    )


def end(
    pair: Pair,
    *,
    actor: User,
    outcomes: list[str],
    stop_reason: str | None = None,
    detail: str = "",
    contract: str | None = None,
    rights: list[str] | None = None,
    now: datetime | None = None,
) -> None:
    """End an active binôme with its outcomes (one or several: a job and leaving the RSA), or
    stopped without result with a reason, which sends the demande back to the queue.

    Whether the tutor wishes to go on is asked of the tutor afterwards (`record_tutor_wish`)."""
    now = now or datetime.now(UTC)
    _check_referent(pair, actor)
    if not pair.is_running:
        raise Conflict(
            "Seul un binôme en cours (actif, en pause ou en attente d'arrêt) peut être terminé."
        )
    chosen = set(outcomes)
    if not chosen or any(code not in vocab.OUTCOMES for code in chosen):
        raise DomainError(
            "Choisissez le ou les résultats du binôme dans la liste.", field="outcomes"
        )
    stopped = vocab.STOPPED_OUTCOME in chosen
    if stopped and len(chosen) > 1:
        raise DomainError(
            "« Arrêt sans résultat » ne se combine pas avec un autre résultat.", field="outcomes"
        )
    if stopped and stop_reason not in vocab.STOP_REASONS:
        raise DomainError("Indiquez pourquoi le binôme s'arrête.", field="stop_reason")
    if stopped and stop_reason == "other" and not detail.strip():
        raise DomainError("Précisez la raison de l'arrêt.", field="detail")
    rights = rights or []
    if "job" in chosen and contract not in vocab.CONTRACT_TYPES:
        raise DomainError("Pour un emploi, indiquez le type de contrat.", field="contract")
    if "rights" in chosen and not rights:
        raise DomainError("Indiquez quels droits ont été ouverts.", field="rights")
    if any(r not in vocab.RIGHTS for r in rights):
        raise DomainError("Droit inconnu : choisissez dans la liste.", field="rights")
    ordered = [code for code in vocab.OUTCOMES if code in chosen]
    summary = ", ".join(vocab.OUTCOMES[code] for code in ordered)
    if stopped and stop_reason:
        summary += f" ({vocab.STOP_REASONS[stop_reason].lower()})"
    transition(
        pair,
        PairStatus.ENDED,
        actor=actor,
        reason=f"{summary} {detail}".strip(),
        now=now,
    )
    pair.outcome_rows = [
        PairOutcome(outcome=code, reason=stop_reason if code == vocab.STOPPED_OUTCOME else None)
        for code in ordered
    ]
    pair.outcome_detail = detail.strip()
    pair.outcome_contract = contract if "job" in chosen else None
    pair.outcome_rights = ",".join(rights) if "rights" in chosen else ""
    pair.ended_at = pair.updated_at = now
    pair.paused_until = None
    voices.close_reports(pair, actor=actor, note="Binôme terminé", now=now)
    free_place(pair.tutor_id, now, rest=True)
    if chosen & vocab.FAILED_OUTCOMES:
        move_request_after(
            pair.request,
            PairStatus.ENDED,
            actor=actor,
            reason=f"Binôme n° {pair.id} arrêté : nouvelle proposition",
            now=now,
        )
    ask_help = loop.asks_to_help(pair)
    for person in (pair.tutor, pair.mentee):
        queue_email("pair_ended", person, pair=pair, ask_help=ask_help)


def record_tutor_wish(pair: Pair, *, actor: User, wants_again: bool) -> None:
    """The tutor says, once their binôme has ended, whether they wish to follow someone else."""
    if actor.id != pair.tutor_id:
        raise DomainError("Seul le tuteur du binôme peut répondre à cette question.")
    if pair.status != PairStatus.ENDED:
        raise Conflict("Cette question se pose une fois le binôme terminé.")
    pair.tutor_wants_again = wants_again
