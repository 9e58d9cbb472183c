"""The one place where statuses change: a transition table per entity, and an event per change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.orm.attributes import set_committed_value

from tutorat.extensions import db
from tutorat.models import (
    EventEntity,
    Pair,
    PairStatus,
    StatusEvent,
    TutoringRequest,
    TutoringRequestStatus,
    User,
)
from tutorat.models._types import utcnow
from tutorat.services.db import changed_rows
from tutorat.services.errors import Conflict, DomainError

# An event says what happened: it is never dated later than now. Two servers' clocks may differ
# by a little; more than this is a bug (a demo or an import writing the future), refused.
CLOCK_SKEW = timedelta(seconds=5)

_R = TutoringRequestStatus
_P = PairStatus

REQUEST_TRANSITIONS: dict[TutoringRequestStatus, frozenset[TutoringRequestStatus]] = {
    _R.OPEN: frozenset({_R.PROPOSED, _R.WAITING, _R.CANCELLED}),
    # The waiting list: back to the queue when a tutor fits (run-reminders) or when the référent
    # takes it back.
    _R.WAITING: frozenset({_R.OPEN, _R.CANCELLED}),
    _R.PROPOSED: frozenset({_R.OPEN, _R.MATCHED, _R.CANCELLED}),
    # A binôme that failed sends its demande back for a new proposal.
    _R.MATCHED: frozenset({_R.OPEN}),
    _R.CANCELLED: frozenset(),
}

PAIR_TRANSITIONS: dict[PairStatus, frozenset[PairStatus]] = {
    _P.PROPOSED: frozenset(
        {_P.TUTOR_ACCEPTED, _P.MENTEE_ACCEPTED, _P.DECLINED, _P.EXPIRED, _P.WITHDRAWN}
    ),
    _P.TUTOR_ACCEPTED: frozenset({_P.ACCEPTED, _P.DECLINED, _P.EXPIRED, _P.WITHDRAWN}),
    _P.MENTEE_ACCEPTED: frozenset({_P.ACCEPTED, _P.DECLINED, _P.EXPIRED, _P.WITHDRAWN}),
    _P.ACCEPTED: frozenset({_P.ACTIVE, _P.WITHDRAWN}),
    # The mentee or the tutor pauses the binôme or asks to stop it (services/voices.py); the
    # référent ends it, or resumes it; a pause also ends on its own at its date (run-reminders).
    _P.ACTIVE: frozenset({_P.PAUSED, _P.STOP_REQUESTED, _P.ENDED}),
    _P.PAUSED: frozenset({_P.ACTIVE, _P.STOP_REQUESTED, _P.ENDED}),
    _P.STOP_REQUESTED: frozenset({_P.ACTIVE, _P.ENDED}),
    _P.ENDED: frozenset(),
    _P.DECLINED: frozenset(),
    _P.EXPIRED: frozenset(),
    _P.WITHDRAWN: frozenset(),
}

# What a binôme's change does to its demande. The services move the demande so (services/pairs.py,
# followup.py, deactivation.py), and the Gers-scale generator writes a demande's events from it.
REQUEST_AFTER_PAIR: dict[PairStatus, TutoringRequestStatus] = {
    _P.PROPOSED: _R.PROPOSED,
    _P.DECLINED: _R.OPEN,
    _P.EXPIRED: _R.OPEN,
    _P.WITHDRAWN: _R.OPEN,
    _P.ACTIVE: _R.MATCHED,
    # Only when the binôme ended without result (vocab.FAILED_OUTCOMES): back to the queue.
    _P.ENDED: _R.OPEN,
}

Status = TutoringRequestStatus | PairStatus

_TABLES: dict[type, tuple[dict, str]] = {
    TutoringRequest: (REQUEST_TRANSITIONS, EventEntity.REQUEST),
    Pair: (PAIR_TRANSITIONS, EventEntity.PAIR),
}


def _member(table: dict, status: Status | str) -> Status:
    """The enum member a table is keyed by (a status read back as a plain string included)."""
    return type(next(iter(table)))(status)


def can_transition(obj: TutoringRequest | Pair, to: Status) -> bool:
    table, _ = _TABLES[type(obj)]
    return to in table.get(obj.status, frozenset())


def check_event_time(at: datetime, *, now: datetime | None = None) -> datetime:
    """Refuse a status event dated in the future (beyond `CLOCK_SKEW`) or without a time zone."""
    if at.tzinfo is None:
        raise DomainError("La date d'un changement de statut doit indiquer son fuseau horaire.")
    now = now or utcnow()
    if at > now + CLOCK_SKEW:
        raise DomainError(
            f"Un changement de statut ne peut pas être daté dans le futur "
            f"({at:%d/%m/%Y à %H:%M} UTC, alors qu'il est {now:%d/%m/%Y à %H:%M} UTC)."
        )
    return at


def record_event(
    entity: str,
    entity_id: int,
    *,
    actor: User | None,
    at: datetime,
    from_status: Status | None,
    to_status: Status,
    reason: str = "",
    on_behalf_of: User | None = None,
) -> StatusEvent:
    """Add one status event, after checking that it is not dated in the future."""
    event = StatusEvent(
        entity=entity,
        entity_id=entity_id,
        actor_id=actor.id if actor else None,
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
        at=check_event_time(at),
        from_status=None if from_status is None else str(from_status),
        to_status=str(to_status),
        reason=(reason or "")[:2000],
    )
    db.session.add(event)
    return event


def transition(
    obj: TutoringRequest | Pair,
    to: Status,
    *,
    actor: User | None,
    reason: str = "",
    on_behalf_of: User | None = None,
    now: datetime | None = None,
) -> StatusEvent:
    """Move `obj` to status `to` if the table allows it, and record who, when, from, to, why.

    The UPDATE is conditional on the status read: if someone else changed it meanwhile,
    nothing is written and a French `Conflict` is raised. `now` is the moment of the change
    (the real clock by default; the demo passes its simulated one).
    """
    table, entity = _TABLES[type(obj)]
    current, to = _member(table, obj.status), _member(table, to)
    if to not in table.get(current, frozenset()):
        raise Conflict(
            "Cette action n'est plus possible : le statut a changé entre-temps. Rechargez la page."
        )
    model = type(obj)
    now = check_event_time(now or utcnow())
    result = db.session.execute(
        update(model)
        .where(model.id == obj.id, model.status == current)
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed_rows(result) != 1:
        raise Conflict(
            "Cette action n'est plus possible : quelqu'un d'autre vient de la modifier. Rechargez la page."
        )
    set_committed_value(obj, "status", to)
    set_committed_value(obj, "updated_at", now)
    return record_event(
        entity,
        obj.id,
        actor=actor,
        on_behalf_of=on_behalf_of,
        at=now,
        from_status=current,
        to_status=to,
        reason=reason,
    )


def move_request_after(
    request: TutoringRequest,
    pair_status: PairStatus,
    *,
    actor: User | None,
    reason: str,
    now: datetime | None = None,
) -> StatusEvent:
    """Move a demande as its binôme's change to `pair_status` requires (`REQUEST_AFTER_PAIR`)."""
    return transition(request, REQUEST_AFTER_PAIR[pair_status], actor=actor, reason=reason, now=now)


def transition_many(
    model: type[TutoringRequest] | type[Pair],
    ids: Sequence[int],
    to: Status,
    *,
    actor: User | None,
    reason: str | dict[int, str] = "",
    from_statuses: Iterable[Status] | None = None,
    now: datetime | None = None,
) -> dict[int, Status]:
    """Move every row of `ids` that may go to `to` from its current status, in a few statements.

    Set-based `transition`: one conditional UPDATE per current status (… WHERE id IN (…) AND
    status = from), each returning the ids it changed, then the events in one bulk INSERT. A row
    changed meanwhile by someone else (or by another run) is left alone. Returns {id: from_status}
    for the rows moved; the caller acts on those only. `reason` may be given per id;
    `from_statuses` narrows the statuses a row may leave (the table's, by default).
    """
    table, entity = _TABLES[model]
    to = _member(table, to)
    allowed = None if from_statuses is None else frozenset(from_statuses)
    sources = sorted(
        status
        for status, targets in table.items()
        if to in targets and (allowed is None or status in allowed)
    )
    ids = list(ids)
    if not ids or not sources:
        return {}
    now = check_event_time(now or utcnow())
    moved: dict[int, Status] = {}
    for current in sources:
        stmt = (
            update(model)
            .where(model.id.in_(ids), model.status == current)
            .values(status=to, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        # RETURNING: PostgreSQL, and SQLite from 3.35 (2021).
        changed = db.session.scalars(stmt.returning(model.id)).all()
        moved.update(dict.fromkeys(changed, current))
    if moved:
        db.session.execute(
            insert(StatusEvent),
            [
                {
                    "entity": entity,
                    "entity_id": obj_id,
                    "actor_id": actor.id if actor else None,
                    "on_behalf_of_id": None,
                    "at": now,
                    "from_status": str(current),
                    "to_status": str(to),
                    "reason": (reason.get(obj_id, "") if isinstance(reason, dict) else reason)[
                        :2000
                    ],
                }
                for obj_id, current in sorted(moved.items())
            ],
        )
        # Objects already loaded in the session must not keep their old status.
        for obj_id in moved:
            loaded = db.session.identity_map.get(db.session.identity_key(model, obj_id))
            if loaded is not None:
                db.session.expire(loaded, ["status", "updated_at"])
    return moved


def record_creation(
    obj: TutoringRequest | Pair,
    *,
    actor: User | None,
    on_behalf_of: User | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> StatusEvent:
    """The first event of a new demande or binôme (from nothing to its first status)."""
    _, entity = _TABLES[type(obj)]
    return record_event(
        entity,
        obj.id,
        actor=actor,
        on_behalf_of=on_behalf_of,
        at=now or utcnow(),
        from_status=None,
        to_status=obj.status,
        reason=reason,
    )
