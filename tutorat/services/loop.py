"""The loop of the action: a mentee whose binôme ended with a job or leaving the RSA may, later,
help someone in turn.

At the end of such a binôme her end page, email or letter thank her and ask whether she would like
to be invited, later, to become a tutor; her answer is kept on the binôme with its date
(`Pair.mentee_would_help`, `mentee_would_help_at`). When she said yes, `flask run-reminders`
invites her to apply some months after the end (an administration setting, 3 by default), once
(`Pair.help_invited_at`, set by a conditional UPDATE), by email or letter as she chose. The link
opens the public form; it is pre-filled from her profile only if she ticks, at that moment, that
she agrees. She can withdraw her yes from her account at any time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import MenteeProfile, Pair, PairOutcome, PairStatus, Role, Setting, User
from tutorat.services.db import changed_rows
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.notifications import queue_email

SETTING_KEY = "loop_invite_months"
DEFAULT_MONTHS = 3
MAX_MONTHS = 24
# How long the invitation link stays usable.
TOKEN_MAX_AGE = 180 * 24 * 3600


# ---- The question at the end of the binôme ----


class _EndedPair(Protocol):
    """What `asks_to_help` reads of a binôme: a `Pair`, or the référent's page row of one."""

    @property
    def status(self) -> PairStatus: ...

    @property
    def outcomes(self) -> list[str]: ...


def asks_to_help(pair: _EndedPair) -> bool:
    """Whether the mentee of this ended binôme is asked if she would like to help in turn."""
    return pair.status == PairStatus.ENDED and bool(set(pair.outcomes) & vocab.LOOP_OUTCOMES)


def record_answer(pair: Pair, *, actor: User, yes: bool, now: datetime | None = None) -> None:
    """The mentee (or her référent, who noted her answer) says yes or no; she may change it
    until the invitation has gone."""
    if actor.id != pair.mentee_id and not (
        actor.role == Role.REFERENT and pair.referent.id == actor.id
    ):
        raise DomainError(
            "Seule la personne accompagnée, ou son référent, répond à cette question."
        )
    if not asks_to_help(pair):
        raise Conflict("Cette question se pose à la fin d'un binôme qui a mené à un emploi.")
    if pair.help_invited_at is not None and yes:
        raise Conflict("L'invitation à devenir tuteur vous a déjà été envoyée.")
    pair.mentee_would_help = yes
    pair.mentee_would_help_at = now or datetime.now(UTC)


def withdraw(mentee: User, *, now: datetime | None = None) -> int:
    """She withdraws her yes (from her account): no invitation will be sent. Returns how many
    answers changed (0: there was nothing to withdraw)."""
    result = db.session.execute(
        update(Pair)
        .where(Pair.mentee_id == mentee.id, Pair.mentee_would_help.is_(True))
        .values(mentee_would_help=False, mentee_would_help_at=now or datetime.now(UTC))
        .execution_options(synchronize_session="fetch")
    )
    return changed_rows(result)


def opted_in(mentee: User) -> Pair | None:
    """Her binôme on which she said yes (the latest), if any."""
    return db.session.scalars(
        select(Pair)
        .where(Pair.mentee_id == mentee.id, Pair.mentee_would_help.is_(True))
        .order_by(Pair.mentee_would_help_at.desc(), Pair.id.desc())
    ).first()


# ---- The setting ----


def invite_months() -> int:
    setting = db.session.get(Setting, SETTING_KEY)
    value = setting.value if setting is not None else None
    return value if isinstance(value, int) and 1 <= value <= MAX_MONTHS else DEFAULT_MONTHS


def set_invite_months(months: int | None, *, actor: User) -> int:
    if actor.role != Role.ADMIN:
        raise DomainError("Seule l'administration change ce réglage.")
    if months is None or not 1 <= months <= MAX_MONTHS:
        raise DomainError(f"Indiquez un nombre de mois entre 1 et {MAX_MONTHS}.", field="months")
    setting = db.session.get(Setting, SETTING_KEY)
    if setting is None:
        db.session.add(Setting(key=SETTING_KEY, value=months, updated_by_id=actor.id))
    else:
        setting.value, setting.updated_by_id = months, actor.id
    return months


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and hour `months` calendar months earlier (the 31st becomes the month's last)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


# ---- The invitation ----


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="ancien-beneficiaire")


def invitation_token(pair: Pair) -> str:
    return _serializer().dumps({"p": pair.id})


def pair_from_token(token: str | None) -> Pair | None:
    """The binôme an invitation link was made for, if she still says yes; None otherwise."""
    if not token:
        return None
    try:
        pair_id = int(_serializer().loads(token, max_age=TOKEN_MAX_AGE)["p"])
    except (BadSignature, SignatureExpired, KeyError, TypeError, ValueError):
        return None
    pair = db.session.get(Pair, pair_id)
    if pair is None or pair.mentee_would_help is not True:
        return None
    mentee = pair.mentee
    if not mentee.active or mentee.anonymised_at is not None:
        return None
    return pair


def due(now: datetime) -> list[int]:
    """Binômes whose mentee said yes, ended at least the set number of months ago, not invited."""
    limit = months_before(now, invite_months())
    return list(
        db.session.scalars(
            select(Pair.id)
            .join(User, User.id == Pair.mentee_id)
            .where(
                Pair.status == PairStatus.ENDED,
                Pair.mentee_would_help.is_(True),
                Pair.help_invited_at.is_(None),
                Pair.ended_at <= limit,
                User.active.is_(True),
                User.anonymised_at.is_(None),
                Pair.id.in_(
                    select(PairOutcome.pair_id).where(PairOutcome.outcome.in_(vocab.LOOP_OUTCOMES))
                ),
            )
            .order_by(Pair.id)
        )
    )


def send_invitations(now: datetime | None = None) -> int:
    """Invite each mentee due (email or letter, as she chose), once: safe to run twice, and two
    runs at once invite each person once (the conditional UPDATE only one run wins). Commits each."""
    now = now or datetime.now(UTC)
    at = min(now, datetime.now(UTC))
    months = invite_months()
    sent = 0
    for pair_id in due(now):
        result = db.session.execute(
            update(Pair)
            .where(Pair.id == pair_id, Pair.help_invited_at.is_(None))
            .values(help_invited_at=at)
            .execution_options(synchronize_session=False)
        )
        if changed_rows(result) != 1:
            db.session.rollback()
            continue
        pair = db.session.get_one(Pair, pair_id)
        db.session.refresh(pair)
        queue_email(
            "former_mentee_invitation",
            pair.mentee,
            pair=pair,
            token=invitation_token(pair),
            months=months,
        )
        db.session.commit()
        sent += 1
    return sent


def prefill_from_profile(mentee: User) -> dict:
    """What her profile offers the form: who she is, her commune, her first métier, the
    difficulties she overcame. Read only when she ticked that she agrees, at that moment."""
    profile = db.session.get(MenteeProfile, mentee.id)
    codes = profile.metier_codes if profile is not None else []
    obstacles = [o for o in (profile.obstacle_codes if profile else []) if o in vocab.OBSTACLES]
    return {
        "first_name": mentee.first_name,
        "last_name": mentee.last_name,
        "email": mentee.email or "",
        "phone": mentee.phone or "",
        "commune": profile.commune if profile is not None else None,
        "metier_code": codes[0] if codes else None,
        "metier_title": profile.metier_titles.get(codes[0], "") if profile and codes else "",
        "obstacles": obstacles,
    }


__all__ = [
    "asks_to_help",
    "due",
    "invitation_token",
    "invite_months",
    "opted_in",
    "pair_from_token",
    "prefill_from_profile",
    "record_answer",
    "send_invitations",
    "set_invite_months",
    "withdraw",
]
