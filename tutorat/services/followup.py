"""Follow-up: reminders and expiry of unanswered proposals, alerts, the référents' weekly digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import Select, and_, func, or_, select, update

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import Meeting, MenteeProfile, Pair, Request, Role, Setting, User
from tutorat.models.pairs import PENDING_PAIR_STATUSES
from tutorat.services import pairs as pair_service
from tutorat.services.errors import Conflict
from tutorat.services.notifications import queue_email
from tutorat.services.workflow import transition

UNANSWERED = ("proposed", "tutor_accepted", "mentee_accepted")


def _waiting_for(pair: Pair) -> list[tuple[str, User]]:
    """Who has not answered yet: the tutor, the mentee, or both."""
    out = []
    if pair.tutor_answer is None:
        out.append(("tutor", pair.tutor))
    if pair.mentee_answer is None:
        out.append(("mentee", pair.mentee))
    return out


def _bump_reminders(pair: Pair, to: int) -> bool:
    """Record that reminder number `to` went out; False if another run already did (safe to run twice)."""
    result = db.session.execute(
        update(Pair)
        .where(Pair.id == pair.id, Pair.reminders_sent < to)
        .values(reminders_sent=to)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        pair.reminders_sent = to
        return True
    return False


def expire(pair: Pair) -> None:
    """A proposal without all answers in time: expired, the place freed, the demande back to the queue."""
    code, label = vocab.EXPIRY_REASON
    expiry_days = current_app.config["PROPOSAL_EXPIRY_DAYS"]
    transition(pair, "expired", actor=None, reason=f"{label} ({expiry_days} jours)")
    pair.decline_reason = code
    pair_service._free_place(pair.tutor_id)
    transition(pair.request, "open", actor=None, reason=f"Binôme n° {pair.id} expiré sans réponse")
    referent = pair.mentee.mentee_profile.referent
    for side, person in (("referent", referent), ("tutor", pair.tutor), ("mentee", pair.mentee)):
        queue_email(
            "expired",
            person,
            "Une proposition de binôme est annulée faute de réponse",
            "expired",
            pair=pair,
            side=side,
            expiry_days=expiry_days,
        )


def run_reminders(now: datetime | None = None) -> dict[str, int]:
    """One pass: remind at 3 and 7 days, expire at 10 days. Safe to run twice; meant for cron."""
    now = now or datetime.now(UTC)
    first, second = current_app.config["REMINDER_DAYS"]
    expiry_days = current_app.config["PROPOSAL_EXPIRY_DAYS"]
    report = {"rappels": 0, "expirées": 0}
    pair_ids = db.session.scalars(
        select(Pair.id)
        .where(Pair.status.in_(UNANSWERED), Pair.proposed_at <= now - timedelta(days=first))
        .order_by(Pair.id)
    ).all()
    for pair_id in pair_ids:
        pair = db.session.get(Pair, pair_id)
        if pair is None or pair.status not in UNANSWERED:
            continue
        age = now - pair.proposed_at
        try:
            if age >= timedelta(days=expiry_days):
                expire(pair)
                report["expirées"] += 1
            else:
                number = 2 if age >= timedelta(days=second) else 1
                if _bump_reminders(pair, number):
                    for side, person in _waiting_for(pair):
                        queue_email(
                            "reminder",
                            person,
                            "Rappel : une proposition de binôme attend votre réponse",
                            "reminder",
                            pair=pair,
                            side=side,
                            days=age.days,
                            expiry_days=expiry_days,
                        )
                    report["rappels"] += 1
            db.session.commit()
        except Conflict:
            # Someone answered while we were looking: nothing to do for this one.
            db.session.rollback()
    return report


@dataclass
class Alerts:
    old_requests: list[tuple[Request, datetime]]
    silent_pairs: list[tuple[Pair, datetime]]

    def __len__(self) -> int:
        return len(self.old_requests) + len(self.silent_pairs)


def _last_meeting_subquery():
    return (
        select(Meeting.pair_id, func.max(Meeting.date).label("last"))
        .group_by(Meeting.pair_id)
        .subquery()
    )


def old_open_requests_stmt(scoped: Select, now: datetime) -> Select:
    days = current_app.config["ALERT_OPEN_REQUEST_DAYS"]
    return scoped.where(Request.status == "open", Request.updated_at <= now - timedelta(days=days))


def silent_pairs_stmt(scoped: Select, now: datetime) -> Select:
    """Active binômes whose last meeting (or confirmation, if none) is older than the alert delay."""
    days = current_app.config["ALERT_NO_MEETING_DAYS"]
    last = _last_meeting_subquery()
    limit = now - timedelta(days=days)
    return (
        scoped.add_columns(last.c.last)
        .outerjoin(last, last.c.pair_id == Pair.id)
        .where(
            Pair.status == "active",
            or_(
                and_(last.c.last.is_(None), Pair.confirmed_at <= limit),
                last.c.last <= limit.date(),
            ),
        )
    )


def weekly_digest(referent: User, now: datetime) -> dict[str, int]:
    from tutorat.permissions import visible_pairs, visible_requests

    def count(stmt: Select) -> int:
        return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0

    requests_ = visible_requests(referent)
    pairs = visible_pairs(referent)
    return {
        "new_requests": count(requests_.where(Request.created_at >= now - timedelta(days=7))),
        "open_requests": count(requests_.where(Request.status == "open")),
        "old_open_requests": count(old_open_requests_stmt(requests_, now)),
        "pending_pairs": count(pairs.where(Pair.status.in_(PENDING_PAIR_STATUSES))),
        "to_confirm": count(pairs.where(Pair.status == "accepted")),
        "active_pairs": count(pairs.where(Pair.status == "active")),
        "silent_pairs": count(silent_pairs_stmt(pairs, now)),
        "open_days": current_app.config["ALERT_OPEN_REQUEST_DAYS"],
        "no_meeting_days": current_app.config["ALERT_NO_MEETING_DAYS"],
    }


def send_digests(now: datetime | None = None) -> int:
    """The weekly digest to each référent, at most once per ISO week (safe to run twice)."""
    now = now or datetime.now(UTC)
    year, week, _ = now.isocalendar()
    stamp = f"{year}-W{week:02d}"
    sent = 0
    referents = db.session.scalars(
        select(User)
        .where(User.role == Role.REFERENT.value, User.active.is_(True))
        .order_by(User.id)
    ).all()
    for referent in referents:
        key = f"digest:{referent.id}"
        setting = db.session.get(Setting, key)
        if setting is not None and setting.value == stamp:
            continue
        has_people = db.session.scalar(
            select(func.count())
            .select_from(MenteeProfile)
            .where(MenteeProfile.referent_id == referent.id)
        )
        if has_people:
            queue_email(
                "digest",
                referent,
                f"Tutorat : votre résumé de la semaine {week}",
                "digest",
                digest=weekly_digest(referent, now),
            )
            sent += 1
        if setting is None:
            db.session.add(Setting(key=key, value=stamp))
        else:
            setting.value = stamp
        db.session.commit()
    return sent
