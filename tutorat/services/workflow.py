"""The one place where statuses change: a transition table per entity, and an event per change."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from tutorat.extensions import db
from tutorat.models import Pair, Request, StatusEvent, User
from tutorat.models._types import utcnow
from tutorat.services.errors import Conflict

REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"proposed", "cancelled"}),
    "proposed": frozenset({"open", "matched", "cancelled"}),
    # A binôme that failed sends its demande back for a new proposal.
    "matched": frozenset({"open"}),
    "cancelled": frozenset(),
}

PAIR_TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset(
        {"tutor_accepted", "mentee_accepted", "declined", "expired", "withdrawn"}
    ),
    "tutor_accepted": frozenset({"accepted", "declined", "expired", "withdrawn"}),
    "mentee_accepted": frozenset({"accepted", "declined", "expired", "withdrawn"}),
    "accepted": frozenset({"active", "withdrawn"}),
    "active": frozenset({"ended"}),
    "ended": frozenset(),
    "declined": frozenset(),
    "expired": frozenset(),
    "withdrawn": frozenset(),
}

_TABLES = {Request: (REQUEST_TRANSITIONS, "demande"), Pair: (PAIR_TRANSITIONS, "binome")}


def can_transition(obj: Request | Pair, to: str) -> bool:
    table, _ = _TABLES[type(obj)]
    return to in table.get(obj.status, frozenset())


def transition(
    obj: Request | Pair,
    to: str,
    *,
    actor: User | None,
    reason: str = "",
    on_behalf_of: User | None = None,
) -> StatusEvent:
    """Move `obj` to status `to` if the table allows it, and record who, when, from, to, why.

    The UPDATE is conditional on the status read: if someone else changed it meanwhile,
    nothing is written and a French `Conflict` is raised.
    """
    table, entity = _TABLES[type(obj)]
    current = obj.status
    if to not in table.get(current, frozenset()):
        raise Conflict(
            "Cette action n'est plus possible : le statut a changé entre-temps. Rechargez la page."
        )
    model = type(obj)
    now = utcnow()
    result = db.session.execute(
        update(model)
        .where(model.id == obj.id, model.status == current)
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(
            "Cette action n'est plus possible : quelqu'un d'autre vient de la modifier. Rechargez la page."
        )
    set_committed_value(obj, "status", to)
    set_committed_value(obj, "updated_at", now)
    event = StatusEvent(
        entity=entity,
        entity_id=obj.id,
        actor_id=actor.id if actor else None,
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
        at=now,
        from_status=current,
        to_status=to,
        reason=(reason or "")[:2000],
    )
    db.session.add(event)
    return event


def record_creation(
    obj: Request | Pair, *, actor: User | None, on_behalf_of: User | None = None, reason: str = ""
) -> StatusEvent:
    """The first event of a new demande or binôme (from nothing to its first status)."""
    _, entity = _TABLES[type(obj)]
    event = StatusEvent(
        entity=entity,
        entity_id=obj.id,
        actor_id=actor.id if actor else None,
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
        at=utcnow(),
        from_status=None,
        to_status=obj.status,
        reason=reason,
    )
    db.session.add(event)
    return event
