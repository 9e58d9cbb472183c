"""Follow-up: reminders and expiry of unanswered proposals, alerts, the référents' weekly digest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.orm import selectinload

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    Meeting,
    MenteeProfile,
    Pair,
    Role,
    Setting,
    TutoringRequest,
    TutorProfile,
    User,
)
from tutorat.models.pairs import PENDING_PAIR_STATUSES
from tutorat.permissions import visible_pairs, visible_requests
from tutorat.services.db import declare_write_intent
from tutorat.services.notifications import queue_email
from tutorat.services.workflow import transition_many

UNANSWERED = ("proposed", "tutor_accepted", "mentee_accepted")


def _waiting_for(pair: Pair) -> list[tuple[str, User]]:
    """Who has not answered yet: the tutor, the mentee, or both."""
    out = []
    if pair.tutor_answer is None:
        out.append(("tutor", pair.tutor))
    if pair.mentee_answer is None:
        out.append(("mentee", pair.mentee))
    return out


# Pairs handled per transaction: a run interrupted midway keeps what it committed, and each
# commit stays short (other writers wait for SQLite's lock, or for PostgreSQL's row locks).
CHUNK = 500


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield list(ids[i : i + size])


def _load_pairs(ids: Iterable[int]) -> list[Pair]:
    """The pairs with the people their emails need, in three queries whatever their number."""
    ids = sorted(ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Pair)
            .where(Pair.id.in_(ids))
            .order_by(Pair.id)
            .options(
                selectinload(Pair.tutor),
                selectinload(Pair.mentee)
                .selectinload(User.mentee_profile)
                .selectinload(MenteeProfile.referent),
            )
            .execution_options(populate_existing=True)
        )
    )


def _expire_many(ids: Sequence[int], now: datetime | None = None) -> int:
    """Proposals without all answers in time: expired, places freed, demandes back to the queue.

    Expire the still-unanswered pairs among `ids`, set-based; returns how many this call expired.

    `workflow.transition_many` changes only the rows still unanswered (another run, or an answer,
    may have come first) and returns them: only those get their place freed and their emails.
    """
    code, label = vocab.EXPIRY_REASON
    expiry_days = current_app.config["PROPOSAL_EXPIRY_DAYS"]
    moved = transition_many(
        Pair,
        ids,
        "expired",
        actor=None,
        reason=f"{label} ({expiry_days} jours)",
        from_statuses=UNANSWERED,
        now=now,
    )
    if not moved:
        return 0
    expired = list(moved)
    db.session.execute(
        update(Pair)
        .where(Pair.id.in_(expired))
        .values(decline_reason=code)
        .execution_options(synchronize_session=False)
    )
    pairs = _load_pairs(expired)
    freed = Counter(pair.tutor_id for pair in pairs)
    for n in sorted(set(freed.values())):
        tutors = [tutor_id for tutor_id, count in freed.items() if count == n]
        db.session.execute(
            update(TutorProfile)
            .where(TutorProfile.user_id.in_(tutors))
            .values(
                places_used=case(
                    (TutorProfile.places_used >= n, TutorProfile.places_used - n), else_=0
                )
            )
            .execution_options(synchronize_session=False)
        )
    transition_many(
        TutoringRequest,
        [pair.request_id for pair in pairs],
        "open",
        actor=None,
        from_statuses=("proposed",),
        reason={pair.request_id: f"Binôme n° {pair.id} expiré sans réponse" for pair in pairs},
        now=now,
    )
    # No flush while the emails are made: the next flush writes them (and their links) in batches.
    with db.session.no_autoflush:
        for pair in pairs:
            referent = pair.referent
            for side, person in (
                ("referent", referent),
                ("tutor", pair.tutor),
                ("mentee", pair.mentee),
            ):
                queue_email("expired", person, pair=pair, side=side, expiry_days=expiry_days)
    db.session.flush()
    # Other objects of this session (a tutor's profile, a demande) must be read again.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, (TutorProfile, TutoringRequest)):
            db.session.expire(obj)
    return len(expired)


def _remind_many(ids: Sequence[int], number: int, now: datetime) -> int:
    """Send reminder `number` for the pairs of `ids` that have not had it; returns how many.

    The conditional UPDATE … WHERE reminders_sent < number RETURNING id is the claim: a second
    run, even at the same moment, gets no row back for a reminder already recorded.
    """
    expiry_days = current_app.config["PROPOSAL_EXPIRY_DAYS"]
    claimed = db.session.scalars(
        update(Pair)
        .where(Pair.id.in_(ids), Pair.status.in_(UNANSWERED), Pair.reminders_sent < number)
        .values(reminders_sent=number)
        .returning(Pair.id)
        .execution_options(synchronize_session=False)
    ).all()
    with db.session.no_autoflush:
        for pair in _load_pairs(claimed):
            days = (now - pair.proposed_at).days
            for side, person in _waiting_for(pair):
                queue_email(
                    "reminder", person, pair=pair, side=side, days=days, expiry_days=expiry_days
                )
    db.session.flush()
    return len(claimed)


def run_reminders(now: datetime | None = None) -> dict[str, int]:
    """One pass: remind at 3 and 7 days, expire at 10 days. Meant for cron.

    Set-based, a chunk of pairs per transaction. Safe to run twice, and two runs at once send
    each email once: every change is a conditional UPDATE that only one run can win.
    """
    now = now or datetime.now(UTC)
    # Every transaction of the run writes: on SQLite, take the write lock at BEGIN (a second run
    # waits for it instead of failing on a stale read).
    declare_write_intent(True)
    try:
        return _run_reminders(now)
    finally:
        declare_write_intent(False)


def _run_reminders(now: datetime) -> dict[str, int]:
    first, second = current_app.config["REMINDER_DAYS"]
    expiry_days = current_app.config["PROPOSAL_EXPIRY_DAYS"]
    expiry_limit = now - timedelta(days=expiry_days)
    report = {"rappels": 0, "expirées": 0}
    # `now` decides what is due; the events are dated `now` too, but never later than the real
    # clock (a test asks what would be due in 10 days; the demo replays the past at its dates).
    at = min(now, datetime.now(UTC))
    unanswered = select(Pair.id).where(Pair.status.in_(UNANSWERED)).order_by(Pair.id)
    base_url = current_app.config["BASE_URL"].rstrip("/")
    # One request context for every email of the run (their links come from BASE_URL).
    with current_app.test_request_context(base_url=base_url):
        to_expire = db.session.scalars(unanswered.where(Pair.proposed_at <= expiry_limit)).all()
        for chunk in _chunks(to_expire):
            report["expirées"] += _expire_many(chunk, at)
            db.session.commit()
        for number, days in ((2, second), (1, first)):
            due = db.session.scalars(
                unanswered.where(
                    Pair.proposed_at <= now - timedelta(days=days),
                    Pair.proposed_at > expiry_limit,
                    Pair.reminders_sent < number,
                )
            ).all()
            for chunk in _chunks(due):
                report["rappels"] += _remind_many(chunk, number, now)
                db.session.commit()
    return report


@dataclass
class Alerts:
    old_requests: list[tuple[TutoringRequest, datetime]]
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
    return scoped.where(
        TutoringRequest.status == "open", TutoringRequest.updated_at <= now - timedelta(days=days)
    )


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
    def count(stmt: Select) -> int:
        return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0

    requests_ = visible_requests(referent)
    pairs = visible_pairs(referent)
    return {
        "new_requests": count(
            requests_.where(TutoringRequest.created_at >= now - timedelta(days=7))
        ),
        "open_requests": count(requests_.where(TutoringRequest.status == "open")),
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
            queue_email("digest", referent, week=week, digest=weekly_digest(referent, now))
            sent += 1
        if setting is None:
            db.session.add(Setting(key=key, value=stamp))
        else:
            setting.value = stamp
        db.session.commit()
    return sent
