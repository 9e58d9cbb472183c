"""The mentee's and the tutor's say over their binôme: pause, ask to stop, report a problem.

A report (stop request or problem) is private: the référent (and the admin) read it, never the
other person of the binôme — neither its reason nor its words, in pages or emails. The référent
then ends the binôme (`pairs.end`) or resumes it (`resume`) through the workflow's transitions, or
marks a problem as handled; each step is a status event or a dated line of the report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import Pair, PairReport, PairStatus, ReportKind, Role, User
from tutorat.models.pairs import STARTED_PAIR_STATUSES
from tutorat.services import checkins
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.notifications import queue_email
from tutorat.services.workflow import transition, transition_many

PARIS = ZoneInfo("Europe/Paris")
# The longest pause one may take at once (a longer break is a stop).
MAX_PAUSE_DAYS = 92
COMMENT_MAX = 2000

SIDE_LABELS = {Role.TUTOR: "le tuteur", Role.MENTEE: "la personne accompagnée"}


def paris_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(PARIS).date()


def side_of(pair: Pair, actor: User) -> Role:
    """Whether `actor` is the tutor or the mentee of `pair` (nobody else speaks for one side here)."""
    if actor.id == pair.tutor_id:
        return Role.TUTOR
    if actor.id == pair.mentee_id:
        return Role.MENTEE
    raise DomainError("Seules les deux personnes du binôme peuvent faire cette demande.")


def _check_referent(pair: Pair, actor: User) -> None:
    profile = pair.mentee.mentee_profile
    if not actor.is_referent or profile is None or profile.referent_id != actor.id:
        raise DomainError("Seul le référent de cette personne peut faire cette action.")


def _other(pair: Pair, side: Role) -> User:
    return pair.mentee if side == Role.TUTOR else pair.tutor


def _comment(comment: str) -> str:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(
            f"Votre message est trop long : {COMMENT_MAX} caractères au plus.", field="comment"
        )
    return comment


def pause(pair: Pair, *, actor: User, until: date | None, now: datetime | None = None) -> None:
    """The mentee or the tutor pauses an active binôme until a date (included)."""
    now = now or datetime.now(UTC)
    side = side_of(pair, actor)
    if pair.status != PairStatus.ACTIVE:
        raise Conflict("Seul un binôme actif peut être mis en pause.")
    today = paris_today(now)
    if until is None:
        raise DomainError("Indiquez jusqu'à quelle date (jj/mm/aaaa).", field="until")
    if until <= today:
        raise DomainError("La date de fin de la pause doit être après aujourd'hui.", field="until")
    if until > today + timedelta(days=MAX_PAUSE_DAYS):
        raise DomainError(
            f"Une pause dure au plus {MAX_PAUSE_DAYS} jours (environ trois mois). "
            "Pour un arrêt plus long, demandez l'arrêt du binôme.",
            field="until",
        )
    transition(
        pair,
        PairStatus.PAUSED,
        actor=actor,
        reason=f"Pause demandée par {SIDE_LABELS[side]} jusqu'au {until:%d/%m/%Y}",
        now=now,
    )
    pair.paused_until = until
    for person in (_other(pair, side), pair.referent):
        queue_email("pair_paused", person, pair=pair, side=side, until=until)


def resume(pair: Pair, *, actor: User, note: str = "", now: datetime | None = None) -> None:
    """Resume a paused binôme (either person, or the référent), or one whose stop was requested
    (the référent only, after talking with both)."""
    now = now or datetime.now(UTC)
    if pair.status == PairStatus.STOP_REQUESTED:
        _check_referent(pair, actor)
    elif pair.status == PairStatus.PAUSED:
        if actor.id not in (pair.tutor_id, pair.mentee_id):
            _check_referent(pair, actor)
    else:
        raise Conflict("Ce binôme n'est ni en pause ni en attente d'arrêt.")
    note = _comment(note)
    transition(
        pair,
        PairStatus.ACTIVE,
        actor=actor,
        reason=f"Binôme repris. {note}".strip() if actor.is_referent else "Binôme repris",
        now=now,
    )
    pair.paused_until = None
    if actor.is_referent:
        close_reports(
            pair, actor=actor, kinds=(ReportKind.STOP,), note=note or "Binôme repris", now=now
        )
    for person in (pair.tutor, pair.mentee):
        if person.id != actor.id:
            queue_email("pair_resumed", person, pair=pair)


def request_stop(
    pair: Pair, *, actor: User, reason: str, comment: str = "", now: datetime | None = None
) -> PairReport:
    """The mentee or the tutor asks to stop: the binôme waits for the référent, who is alerted."""
    now = now or datetime.now(UTC)
    side = side_of(pair, actor)
    ended = pair.status == PairStatus.ENDED
    if pair.status not in (PairStatus.ACTIVE, PairStatus.PAUSED) and not ended:
        raise Conflict("Ce binôme n'est pas en cours : il ne peut pas être arrêté.")
    if reason not in vocab.STOP_REQUEST_REASONS:
        raise DomainError("Choisissez la raison dans la liste.", field="reason")
    comment = _comment(comment)
    if reason == "other" and not comment:
        raise DomainError("Précisez la raison en quelques mots.", field="comment")
    if ended:
        # Ended meanwhile (the page was open): nothing to stop, but what the person says still
        # reaches the référent — the report is open on their dashboard until they mark it handled.
        return _report(pair, actor, side, ReportKind.STOP, comment, now, reason=reason)
    # The event says who asked, not why: the reason is for the référent (the report).
    transition(
        pair,
        PairStatus.STOP_REQUESTED,
        actor=actor,
        reason=f"Arrêt demandé par {SIDE_LABELS[side]}",
        now=now,
    )
    pair.paused_until = None
    report = _report(pair, actor, side, ReportKind.STOP, comment, now, reason=reason)
    queue_email("pair_stop_other", _other(pair, side), pair=pair)
    return report


def _report(
    pair: Pair,
    actor: User,
    side: Role,
    kind: ReportKind,
    comment: str,
    now: datetime,
    *,
    reason: str | None = None,
) -> PairReport:
    """Record what `actor` tells the référent, and tell the référent (their dashboard shows it
    until it is handled, the binôme running or ended: followup.reported_pair)."""
    report = PairReport(
        pair_id=pair.id,
        author_id=actor.id,
        kind=kind,
        reason=reason,
        comment=comment,
        created_at=now,
    )
    db.session.add(report)
    db.session.flush()
    queue_email("pair_report_referent", pair.referent, pair=pair, report=report, side=side)
    return report


def report_problem(
    pair: Pair, *, actor: User, comment: str, now: datetime | None = None
) -> PairReport:
    """A problem told privately to the référent; the binôme's status does not change."""
    now = now or datetime.now(UTC)
    side = side_of(pair, actor)
    if pair.status not in STARTED_PAIR_STATUSES:
        raise Conflict(
            "Le binôme n'a pas commencé. Pour une question sur la proposition, "
            "adressez-vous à votre référent."
        )
    comment = _comment(comment)
    if not comment:
        raise DomainError("Décrivez le problème en quelques mots.", field="comment")
    return _report(pair, actor, side, ReportKind.PROBLEM, comment, now)


def handle_report(
    report: PairReport, pair: Pair, *, actor: User, note: str = "", now: datetime | None = None
) -> None:
    """The référent marks a report as handled (a stop request is handled by ending or resuming)."""
    now = now or datetime.now(UTC)
    _check_referent(pair, actor)
    if report.pair_id != pair.id:
        raise DomainError("Ce signalement ne concerne pas ce binôme.")
    if report.kind == ReportKind.STOP and pair.status == PairStatus.STOP_REQUESTED:
        raise Conflict("Une demande d'arrêt se traite en terminant le binôme ou en le reprenant.")
    if report.handled_at is not None:
        raise Conflict("Ce signalement est déjà traité.")
    report.handled_at = now
    report.handled_by_id = actor.id
    report.handled_note = _comment(note)


def close_reports(
    pair: Pair,
    *,
    actor: User | None,
    kinds: tuple[ReportKind, ...] = (ReportKind.STOP, ReportKind.PROBLEM),
    note: str,
    now: datetime,
) -> None:
    """Mark the binôme's open reports of `kinds` handled (the référent ended or resumed it)."""
    db.session.execute(
        update(PairReport)
        .where(
            PairReport.pair_id == pair.id,
            PairReport.handled_at.is_(None),
            PairReport.kind.in_(kinds),
        )
        .values(handled_at=now, handled_by_id=actor.id if actor else None, handled_note=note[:2000])
        .execution_options(synchronize_session="fetch")
    )


def resume_due_pauses(now: datetime | None = None) -> int:
    """Pauses whose end date has passed: the binôme is active again (run-reminders; idempotent)."""
    now = now or datetime.now(UTC)
    today = paris_today(now)
    due = db.session.scalars(
        select(Pair.id)
        .where(Pair.status == PairStatus.PAUSED, Pair.paused_until < today)
        .order_by(Pair.id)
    ).all()
    moved = transition_many(
        Pair,
        due,
        PairStatus.ACTIVE,
        actor=None,
        reason="Fin de la pause",
        from_statuses={PairStatus.PAUSED},
        now=min(now, datetime.now(UTC)),
    )
    if not moved:
        return 0
    db.session.execute(
        update(Pair)
        .where(Pair.id.in_(list(moved)))
        .values(paused_until=None)
        .execution_options(synchronize_session=False)
    )
    for pair in db.session.scalars(select(Pair).where(Pair.id.in_(list(moved)))):
        db.session.refresh(pair)
        for person in (pair.tutor, pair.mentee):
            queue_email("pair_resumed", person, pair=pair)
    return len(moved)


def my_reports(pair: Pair, author: User) -> list[PairReport]:
    """What `author` told the référent about this binôme (their own, never the other's)."""
    return list(
        db.session.scalars(
            select(PairReport)
            .where(PairReport.pair_id == pair.id, PairReport.author_id == author.id)
            .order_by(PairReport.created_at.desc(), PairReport.id.desc())
        )
    )


__all__ = [
    "MAX_PAUSE_DAYS",
    "close_reports",
    "handle_report",
    "my_reports",
    "pause",
    "report_problem",
    "request_stop",
    "resume",
    "resume_due_pauses",
    "run_scheduled",
]


def run_scheduled(now: datetime | None = None) -> dict[str, int]:
    """What `flask run-reminders` does for the binômes' voices: pauses past their date end, due
    check-ins are asked. Safe to run twice (each step is conditional)."""
    now = now or datetime.now(UTC)
    base_url = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base_url):
        resumed = resume_due_pauses(now)
        db.session.commit()
        asked = checkins.ask_due(now)
        db.session.commit()
    return {"pauses terminées": resumed, "points": asked}
