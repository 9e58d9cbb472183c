"""`flask seed-demo`: a varied population over real data, every status, idempotent."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, or_, select

from tutorat import vocab
from tutorat.demo.scale import Targets, invariant_violations, seed_scale
from tutorat.demo.story import DEMO_PREFERENCE
from tutorat.extensions import db
from tutorat.models import (
    ApplicationStatus,
    Meeting,
    MenteeProfile,
    OutboxEmail,
    Pair,
    PairStatus,
    Role,
    StatusEvent,
    TutorApplication,
    TutoringRequest,
    TutoringRequestStatus,
    TutorProfile,
    User,
)
from tutorat.models.pairs import LIVE_PAIR_STATUSES
from tutorat.models.pairs import UNANSWERED_PAIR_STATUSES as UNANSWERED
from tutorat.services import contact, decisions, followup, letters, suggestions
from tutorat.services import requests as request_service
from tutorat.services.workflow import PAIR_TRANSITIONS, REQUEST_TRANSITIONS
from tutorat.vocab import DECLINE_REASONS, OUTCOMES, STOP_REASONS


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


def test_seed_demo_twice(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo-Armagnac-2026" in result.output and "beneficiaire@example.org" in result.output
    with app.app_context():
        counts = {role: _count(select(User).where(User.role == role.value)) for role in Role}
        # 120 tutors, and one more from an application the demo validated (tutorat/demo/applications.py).
        assert counts == {Role.MENTEE: 300, Role.TUTOR: 121, Role.REFERENT: 6, Role.ADMIN: 1}
        applications = dict(
            db.session.execute(
                select(TutorApplication.status, func.count()).group_by(TutorApplication.status)
            ).all()
        )
        assert set(applications) == set(ApplicationStatus) - {ApplicationStatus.WITHDRAWN}
        # Every tutor not yet validated has its checklist open.
        assert (
            _count(
                select(TutorProfile).where(
                    TutorProfile.validated_at.is_(None),
                    ~TutorProfile.user_id.in_(
                        select(TutorApplication.tutor_id).where(
                            TutorApplication.status == ApplicationStatus.TO_REVIEW,
                            TutorApplication.tutor_id.is_not(None),
                        )
                    ),
                )
            )
            == 0
        )
        pair_statuses = set(db.session.scalars(select(Pair.status).distinct()))
        assert pair_statuses == {s.value for s in PairStatus}
        assert set(db.session.scalars(select(TutoringRequest.status).distinct())) == {
            s.value for s in TutoringRequestStatus
        }
        assert _count(select(Meeting)) > 50
        # Varied: rural and urban communes, with and without a car.
        assert _count(select(MenteeProfile.commune_code).distinct()) > 100
        assert {True, False} <= set(db.session.scalars(select(MenteeProfile.has_car).distinct()))
        # Tutors are never over capacity.
        assert not db.session.scalar(
            select(func.count()).where(TutorProfile.places_used > TutorProfile.capacity)
        )

        # The demo's référents weigh distance more than the official weights (DEMO_PREFERENCE):
        # « Ce que montrent les décisions » finds that preference back from the proposals.
        report = decisions.report(simulate_suggestion=False)
        assert report.choice.enough and report.choice.signal, report.choice
        for part, share in DEMO_PREFERENCE.items():
            assert abs(report.choice.shares[part] - share) < 0.1, (part, report.choice.shares)
        assert report.suggestion is not None and report.suggestion["distance"] > 0.4

        mentee = db.session.scalars(
            select(User).where(User.email == "beneficiaire@example.org")
        ).one()
        assert mentee.mentee_profile.is_complete
        assert mentee.mentee_profile.referent.email == "referent@example.org"
        assert _count(select(TutoringRequest).where(TutoringRequest.mentee_id == mentee.id)) == 0
        tutor = db.session.scalars(select(User).where(User.email == "tuteur@example.org")).one()
        assert _count(select(Pair).where(Pair.tutor_id == tutor.id, Pair.status == "active")) == 1
        assert _count(select(Pair).where(Pair.tutor_id == tutor.id, Pair.status == "proposed")) == 1
        assert tutor.tutor_profile.places_left >= 1
        # People without email are reached by post: the demo référent has letters to print,
        # each to a person with a postal address of her commune.
        pending = letters.pending_for(mentee.mentee_profile.referent)
        assert pending and all(contact.has_postal_address(x.recipient_user) for x in pending)
        total = _count(select(User))

        # The documented journey can be tried: the demo tutor is a candidate for the demo mentee.
        tutoring_request = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["in_person"], message="Bonjour"
        )
        db.session.flush()
        candidates, _ = suggestions.candidates_for(tutoring_request)
        assert "tuteur@example.org" in [c.tutor.email for c in candidates[:3]]
        db.session.rollback()

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "rien à faire" in again.output
    with app.app_context():
        assert _count(select(User)) == total


# Columns that name a moment to come, not something that happened.
FUTURE_BY_DESIGN = {
    ("outbox_email", "next_attempt_at"),
    ("user_account", "locked_until"),
    ("tutor_profile", "rest_until"),
    ("pair", "paused_until"),  # a pause runs until a date the person chose
    ("next_meeting", "day"),  # the meeting the tutor planned is to come
}

# Every reason the demo's events may carry: the services' own, in French.
FRENCH_REASONS = [
    re.compile(p)
    for p in (
        r"",
        r"Score \d\.\d\d(, rang \d+ sur \d+)?",
        r"Binôme n° \d+ (proposé|actif|refusé|retiré|expiré sans réponse"
        r"|arrêté : nouvelle proposition)",
        r"Accepté par le (tuteur|bénéficiaire)",
        r"Binôme confirmé par le référent",
        r"Retiré par le référent",
        r"Pas de réponse dans les délais \(\d+ jours\)",
        r"La personne .+\.",
        r"La situation de la personne a changé\.",
        r"Un autre tuteur paraît plus adapté\.",
        r"Liste d'attente : .+",
        r"\d+ tuteurs? possibles? : retour dans la file du référent",
        r"Pause demandée par (le tuteur|la personne accompagnée) jusqu'au \d\d/\d\d/\d{4}",
        r"Arrêt demandé par (le tuteur|la personne accompagnée)",
        r"Binôme repris(\. .+)?",
        r"Fin de la pause",
    )
] + [re.compile(re.escape(label)) for label in (*DECLINE_REASONS.values(), *OUTCOMES.values())]
# An ended binôme: its outcomes (one or several), the reason it stopped, the référent's words.
_OUTCOME = "|".join(re.escape(label) for label in OUTCOMES.values())
_STOP = "|".join(re.escape(label.lower()) for label in STOP_REASONS.values())
FRENCH_REASONS.append(
    re.compile(rf"({_OUTCOME})(, ({_OUTCOME}))*( \(({_STOP})\))?( Raison donnée par téléphone\.)?")
)
ENGLISH = re.compile(
    r"\b(expired|declined|accepted|withdrawn|proposed|active|ended|cancelled|matched|open"
    r"|tutor|mentee|pair|request|none|null)\b",
    re.IGNORECASE,
)


def _dated_in_the_future() -> dict[str, int]:
    """Rows of any table holding a past moment (a date or time) later than now."""
    from sqlalchemy import Date

    from tutorat.models._types import UTCDateTime

    now, today = datetime.now(UTC), date.today()
    future = {}
    checked = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if (table.name, column.name) in FUTURE_BY_DESIGN:
                continue
            if isinstance(column.type, UTCDateTime):
                limit = now
            elif isinstance(column.type, Date):
                limit = today
            else:
                continue
            checked.add(f"{table.name}.{column.name}")
            n = db.session.scalar(select(func.count()).select_from(table).where(column > limit))
            if n:
                future[f"{table.name}.{column.name}"] = n
    assert {"status_event.at", "meeting.date", "pair.ended_at", "pair.confirmed_at"} <= checked
    return future


def test_demo_obeys_the_rules(app, runner):
    """Issue 12: the demo holds only what the product itself could have produced.

    No proposal still waiting beyond the expiry delay, every status reached by events that chain
    (from nothing, each from the previous one's to, the last one's to = the status), every reason
    in French, no tutor over capacity, nothing dated in the future.
    """
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    now = datetime.now(UTC)
    with app.app_context():
        expiry = timedelta(days=app.config["PROPOSAL_EXPIRY_DAYS"])
        waiting = db.session.scalars(
            select(Pair).where(Pair.status.in_(UNANSWERED), Pair.proposed_at <= now - expiry)
        ).all()
        assert [(p.id, p.status, p.proposed_at) for p in waiting] == []
        # The reminders and expiries are the cron's own.
        assert db.session.scalar(select(func.count()).where(Pair.reminders_sent > 0))
        expired = db.session.scalars(select(Pair).where(Pair.status == "expired")).all()
        assert expired and all(p.decline_reason == "no_answer" for p in expired)
        # Both accepted: the référent confirms within days, not months.
        accepted = db.session.scalars(select(Pair).where(Pair.status == "accepted")).all()
        assert accepted and all(now - p.updated_at < expiry for p in accepted)

        events: dict[tuple[str, int], list[StatusEvent]] = {}
        for event in db.session.scalars(
            select(StatusEvent).order_by(StatusEvent.at, StatusEvent.id)
        ):
            events.setdefault((event.entity, event.entity_id), []).append(event)
        broken = []
        for entity, model in (("request", TutoringRequest), ("pair", Pair)):
            for obj in db.session.scalars(select(model)):
                chain = events.get((entity, obj.id), [])
                steps = [(e.from_status, e.to_status) for e in chain]
                froms = [None] + [to for _, to in steps[:-1]]
                if not chain or [f for f, _ in steps] != froms or steps[-1][1] != obj.status:
                    broken.append((entity, obj.id, obj.status, steps))
                table = REQUEST_TRANSITIONS if entity == "request" else PAIR_TRANSITIONS
                if any(f is not None and t not in table[f] for f, t in steps):
                    broken.append((entity, obj.id, "transition hors table", steps))
        assert broken == []

        reasons = set(db.session.scalars(select(StatusEvent.reason).distinct()))
        assert [r for r in reasons if ENGLISH.search(r)] == []
        assert [r for r in reasons if not any(p.fullmatch(r) for p in FRENCH_REASONS)] == []

        live = dict(
            db.session.execute(
                select(Pair.tutor_id, func.count())
                .where(Pair.status.in_(LIVE_PAIR_STATUSES))
                .group_by(Pair.tutor_id)
            ).all()
        )
        places = [
            (p.user_id, p.places_used, live.get(p.user_id, 0), p.capacity)
            for p in db.session.scalars(select(TutorProfile))
        ]
        assert [p for p in places if p[1] != p[2] or p[1] > p[3]] == []

        # Every stored code is one of the vocabulary's (English since migration 0008).
        stored = [
            *((vocab.OBSTACLES, o) for o in db.session.scalars(select(MenteeProfile.obstacles))),
            *((vocab.OBSTACLES, o) for o in db.session.scalars(select(TutorProfile.obstacles))),
            *((vocab.TOPICS, t) for t in db.session.scalars(select(TutoringRequest.topics))),
            *(
                (vocab.MEETING_MODES, m)
                for m in db.session.scalars(select(TutoringRequest.meeting_modes))
            ),
        ]
        unknown = {c for known, codes in stored for c in codes.split(",") if c and c not in known}
        assert unknown == set()
        # Consent is recorded by someone: the person, or the référent who registered them.
        assert not db.session.scalar(
            select(func.count()).where(User.consent_at.is_not(None), User.consent_by_id.is_(None))
        )

        # Meetings only while a binôme is active, never before it was confirmed.
        early = db.session.scalar(
            select(func.count())
            .select_from(Meeting)
            .join(Pair, Pair.id == Meeting.pair_id)
            .where(or_(Pair.confirmed_at.is_(None), Meeting.date < func.date(Pair.confirmed_at)))
        )
        assert not early
        assert _dated_in_the_future() == {}
        # The demo's past emails are not waiting to leave.
        assert not db.session.scalar(select(func.count()).select_from(OutboxEmail))

        # The waiting list's 5 demandes stay there when `make setup` runs the reminders: no tutor
        # can meet those people (far from every tutor, no car, no remote meetings).
        waiting_list = select(TutoringRequest.id).where(
            TutoringRequest.status == TutoringRequestStatus.WAITING
        )
        before = set(db.session.scalars(waiting_list))
        assert len(before) == 5
        followup.run_reminders(now=datetime.now(UTC))
        db.session.commit()
        assert set(db.session.scalars(waiting_list)) == before


def test_workflow_refuses_an_event_in_the_future(ctx):
    from datetime import UTC, datetime, timedelta

    import pytest

    from tutorat.models import StatusEvent
    from tutorat.services import workflow
    from tutorat.services.errors import DomainError

    with pytest.raises(DomainError, match="dans le futur"):
        workflow.record_event(
            "request",
            1,
            actor=None,
            at=datetime.now(UTC) + timedelta(days=34),
            from_status="open",
            to_status="proposed",
        )
    with pytest.raises(DomainError, match="fuseau"):
        workflow.check_event_time(datetime(2026, 1, 1))
    # A second of clock difference between two servers is not an error.
    workflow.check_event_time(datetime.now(UTC) + timedelta(seconds=1))
    assert not db.session.new or not any(isinstance(o, StatusEvent) for o in db.session.new)


def test_demo_paths_come_from_the_transition_table():
    """The demo draws each binôme's way to its status from the workflow's table, not its own."""
    from tutorat.demo.story import pair_paths

    for status in PairStatus:
        paths = pair_paths(status.value)
        assert paths, f"aucun chemin vers {status.value}"
        for path in paths:
            assert path[0] == "proposed" and path[-1] == status.value
            assert all(b in PAIR_TRANSITIONS[a] for a, b in itertools.pairwise(path))
    # Both orders of the answers lead to a binôme accepted by both.
    assert {p[1] for p in pair_paths("accepted")} == {"tutor_accepted", "mentee_accepted"}


def test_make_setup_runs_the_reminders_after_the_demo():
    """`make run` (through `make setup`) runs the reminders once before serving."""
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    setup = makefile.split("\nsetup:", 1)[1].split("\n\n", 1)[0].splitlines()
    commands = [line.split()[-1] for line in setup if line.startswith("\t$(FLASK)")]
    assert commands.index("run-reminders") > commands.index("seed-demo")
    assert "\nrun: setup" in makefile


def test_services_follow_a_simulated_clock(ctx):
    """Each service takes the moment it acts at (the demo's clock); never a moment to come."""
    import pytest

    from tests.factories import make_mentee, make_referent, make_tutor
    from tutorat.services import followup, meetings
    from tutorat.services import pairs as pair_service
    from tutorat.services.errors import DomainError

    then = datetime.now(UTC) - timedelta(days=60)
    referent = make_referent()
    mentee = make_mentee(referent)
    tutor = make_tutor(capacity=2)
    tutoring_request = request_service.open_request(
        mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour", now=then
    )
    db.session.flush()
    pair = pair_service.propose(
        tutoring_request, tutor.id, actor=referent, now=then + timedelta(hours=1)
    )
    pair_service.answer(pair, side="tutor", accept=True, actor=tutor, now=then + timedelta(days=1))
    pair_service.answer(
        pair, side="mentee", accept=True, actor=mentee, now=then + timedelta(days=2)
    )
    pair_service.confirm(pair, actor=referent, now=then + timedelta(days=3))
    meeting = meetings.log_meeting(
        pair,
        actor=tutor,
        day=(then + timedelta(days=10)).date(),
        duration_minutes=60,
        mode="video",
        now=then + timedelta(days=10),
    )
    db.session.flush()
    assert (tutoring_request.created_at, pair.proposed_at) == (then, then + timedelta(hours=1))
    assert pair.confirmed_at == then + timedelta(days=3)
    assert meeting.created_at == then + timedelta(days=10)
    assert db.session.get(TutorProfile, tutor.id).last_asked_at == then + timedelta(hours=1)
    events = db.session.scalars(select(StatusEvent).order_by(StatusEvent.id)).all()
    assert [e.at - then for e in events] == [
        timedelta(0),  # demande opened
        timedelta(hours=1),  # binôme proposed
        timedelta(hours=1),  # demande: proposal
        timedelta(days=1),
        timedelta(days=2),
        timedelta(days=3),  # binôme active
        timedelta(days=3),  # demande matched
    ]
    # Nothing is dated in the future, even when asked to.
    with pytest.raises(DomainError, match="dans le futur"):
        pair_service.end(
            pair, actor=referent, outcomes=["training"], now=datetime.now(UTC) + timedelta(days=1)
        )
    # The cron replays a past day: a proposal of then expires at then + 10 days, dated so.
    other = make_mentee(referent)
    second = request_service.open_request(
        other, actor=other, topics=["cv"], meeting_modes=["video"], message="Bonjour", now=then
    )
    db.session.flush()
    late = pair_service.propose(second, tutor.id, actor=referent, now=then)
    db.session.commit()
    assert followup.run_reminders(now=then + timedelta(days=10, hours=1))["expirées"] == 1
    expired = db.session.scalars(
        select(StatusEvent).where(
            StatusEvent.entity == "pair",
            StatusEvent.entity_id == late.id,
            StatusEvent.to_status == "expired",
        )
    ).one()
    assert expired.at == then + timedelta(days=10, hours=1)


def test_gers_scale_generator_obeys_the_invariants(app):
    """The Gers-scale generator (bench-web's population), small: no invariant broken, every
    consent recorded by someone."""
    with app.app_context():
        seed_scale(
            Targets(mentees=500, tutors=160, referents=8, pairs=320, meetings=900),
            seed=5,
            echo=False,
        )
        assert _count(select(User).where(User.role == Role.MENTEE.value)) == 500
        violations = invariant_violations()
        assert violations and {rule: n for rule, n in violations.items() if n} == {}
        assert not db.session.scalar(
            select(func.count()).where(User.consent_at.is_not(None), User.consent_by_id.is_(None))
        )


def _scale_decisions(choices: str):
    """The Gers-scale generator's own decisions (the small demo's left aside), fitted."""
    from tutorat.demo import seed_demo

    seed_demo(seed=5)
    first = db.session.scalar(select(func.max(Pair.id))) or 0
    seed_scale(
        Targets(mentees=900, tutors=260, referents=8, pairs=600, meetings=100),
        seed=5,
        echo=False,
        choices=choices,
    )
    data = decisions.learning_data(after_pair_id=first)
    return decisions.fit_choices(data.decisions)


def test_gers_scale_choices_carry_the_documented_preference(app):
    """At Gers scale too, référents weigh distance more (DEMO_PREFERENCE): the choice model of
    « Ce que montrent les décisions » finds it back from the generated proposals alone."""
    with app.app_context():
        fit = _scale_decisions("preference")
        assert fit.enough and fit.signal, fit
        for part, share in DEMO_PREFERENCE.items():
            assert abs(fit.shares[part] - share) < 0.1, (part, fit.shares)


def test_gers_scale_random_choices_show_no_signal(app):
    with app.app_context():
        fit = _scale_decisions("random")
        assert fit.enough and not fit.signal, fit
