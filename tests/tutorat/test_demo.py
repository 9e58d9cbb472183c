"""`flask seed-demo`: a varied population over real data, every status, idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from tutorat.extensions import db
from tutorat.models import (
    Meeting,
    MenteeProfile,
    Pair,
    PairStatus,
    Request,
    RequestStatus,
    Role,
    TutorProfile,
    User,
)


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


def test_seed_demo_twice(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo-Armagnac-2026" in result.output and "beneficiaire@example.org" in result.output
    with app.app_context():
        counts = {role: _count(select(User).where(User.role == role.value)) for role in Role}
        assert counts == {Role.MENTEE: 300, Role.TUTOR: 120, Role.REFERENT: 6, Role.ADMIN: 1}
        pair_statuses = set(db.session.scalars(select(Pair.status).distinct()))
        assert pair_statuses == {s.value for s in PairStatus}
        assert set(db.session.scalars(select(Request.status).distinct())) == {
            s.value for s in RequestStatus
        }
        assert _count(select(Meeting)) > 50
        # Varied: rural and urban communes, with and without a car.
        assert _count(select(MenteeProfile.commune_code).distinct()) > 100
        assert {True, False} <= set(db.session.scalars(select(MenteeProfile.has_car).distinct()))
        # Tutors are never over capacity.
        assert not db.session.scalar(
            select(func.count()).where(TutorProfile.places_used > TutorProfile.capacity)
        )

        mentee = db.session.scalars(
            select(User).where(User.email == "beneficiaire@example.org")
        ).one()
        assert mentee.mentee_profile.is_complete
        assert mentee.mentee_profile.referent.email == "referent@example.org"
        assert _count(select(Request).where(Request.mentee_id == mentee.id)) == 0
        tutor = db.session.scalars(select(User).where(User.email == "tuteur@example.org")).one()
        assert _count(select(Pair).where(Pair.tutor_id == tutor.id, Pair.status == "active")) == 1
        assert tutor.tutor_profile.places_left >= 1
        total = _count(select(User))

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "rien à faire" in again.output
    with app.app_context():
        assert _count(select(User)) == total


def test_demo_mentee_sees_the_demo_tutor(app, runner):
    """The documented journey can be tried: the demo tutor is a candidate for the demo mentee."""
    runner.invoke(args=["seed-demo"])
    from tutorat.services import requests as request_service
    from tutorat.services import suggestions

    with app.app_context():
        mentee = db.session.scalars(
            select(User).where(User.email == "beneficiaire@example.org")
        ).one()
        demande = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["presentiel"], message="Bonjour"
        )
        db.session.flush()
        candidates, _ = suggestions.candidates_for(demande)
        assert "tuteur@example.org" in [c.tutor.email for c in candidates[:3]]
        db.session.rollback()


# Columns that name a moment to come, not something that happened.
FUTURE_BY_DESIGN = {
    ("outbox_email", "next_attempt_at"),
    ("user_account", "locked_until"),
    ("tutor_profile", "rest_until"),
}


def test_demo_has_nothing_dated_in_the_future(app, runner):
    """No status event, meeting, binôme or account of the demo is dated later than now."""
    from datetime import UTC, date, datetime

    from sqlalchemy import Date

    from tutorat.models._types import UTCDateTime

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    now, today = datetime.now(UTC), date.today()
    future = {}
    checked = set()
    with app.app_context():
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
    assert future == {}


def test_workflow_refuses_an_event_in_the_future(ctx):
    from datetime import UTC, datetime, timedelta

    import pytest

    from tutorat.models import StatusEvent
    from tutorat.services import workflow
    from tutorat.services.errors import DomainError

    with pytest.raises(DomainError, match="dans le futur"):
        workflow.record_event(
            "demande",
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
