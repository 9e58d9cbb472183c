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
