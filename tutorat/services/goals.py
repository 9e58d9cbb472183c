"""The mentee's goals for her binôme: one to three, in her words or from a list; both mark progress."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import Goal, GoalStatus, Pair, User
from tutorat.models.goals import MAX_GOALS
from tutorat.services.errors import Conflict, DomainError

TEXT_MAX = 200


def _is_referent_of(pair: Pair, actor: User) -> bool:
    profile = pair.mentee.mentee_profile
    return actor.is_referent and profile is not None and profile.referent_id == actor.id


def add_goal(
    pair: Pair, *, actor: User, code: str = "", text: str = "", now: datetime | None = None
) -> Goal:
    """The mentee (or her référent with her) adds a goal: a list item, or her own words."""
    now = now or datetime.now(UTC)
    if actor.id != pair.mentee_id and not _is_referent_of(pair, actor):
        raise DomainError("Seule la personne accompagnée (ou son référent) fixe ses objectifs.")
    if not pair.is_running:
        raise Conflict("Les objectifs se fixent pendant le binôme.")
    count = db.session.scalar(select(func.count()).where(Goal.pair_id == pair.id)) or 0
    if count >= MAX_GOALS:
        raise DomainError(f"Trois objectifs au plus : {MAX_GOALS} sont déjà fixés.", field="text")
    text = (text or "").strip()
    if code:
        if code not in vocab.GOALS:
            raise DomainError("Choisissez un objectif de la liste.", field="code")
        text = text or vocab.GOALS[code]
    if not text:
        raise DomainError("Choisissez un objectif ou écrivez-le avec vos mots.", field="text")
    if len(text) > TEXT_MAX:
        raise DomainError(f"{TEXT_MAX} caractères au plus.", field="text")
    goal = Goal(
        pair_id=pair.id,
        code=code or None,
        text=text,
        status=GoalStatus.TODO,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(goal)
    db.session.flush()
    return goal


def mark(goal: Goal, pair: Pair, *, actor: User, status: str, now: datetime | None = None) -> None:
    """The tutor or the mentee (or the référent) marks a goal's progress."""
    if goal.pair_id != pair.id:
        raise DomainError("Cet objectif ne concerne pas ce binôme.")
    if actor.id not in (pair.tutor_id, pair.mentee_id) and not _is_referent_of(pair, actor):
        raise DomainError("Seules les personnes du binôme et le référent suivent ses objectifs.")
    try:
        goal.status = GoalStatus(status)
    except ValueError:
        raise DomainError("Choisissez où en est l'objectif.", field="status") from None
    goal.updated_by_id = actor.id
    goal.updated_at = now or datetime.now(UTC)


# Built once, the binôme bound at each request; who last marked each goal read with it (no query
# per goal).
_GOALS = (
    select(Goal)
    .where(Goal.pair_id == bindparam("pair_id"))
    .order_by(Goal.id)
    .options(joinedload(Goal.updated_by).load_only(User.id, User.first_name, User.last_name))
)


def goals_of(pair: Pair) -> list[Goal]:
    return list(db.session.scalars(_GOALS, {"pair_id": pair.id}))
