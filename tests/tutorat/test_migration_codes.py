"""Migrations 0008 and 0009: a database holding the former French codes comes out with the English ones.

The rows are written at the head revision with English codes, taken down to 0007 (the French codes
written back, checked in the raw rows), then up again: every stored code, lists and the explanation's
codes included, must be the English one again, and the check constraints must accept them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL
from tutorat import create_app
from tutorat.extensions import db
from tutorat.models import (
    AccessAction,
    AccessLog,
    EventEntity,
    Meeting,
    MenteeProfile,
    Pair,
    PairOutcome,
    PairStatus,
    Role,
    StatusEvent,
    TutoringRequest,
    TutoringRequestStatus,
    TutorProfile,
    User,
)

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EXPLANATION = {
    "rome_level": "domain",
    "common_obstacles": ["childcare", "rights_access"],
    "reasons": ["Même domaine professionnel"],
}

# (table, column, id column, English as written, French after the downgrade)
EXPECTED = [
    ("tutoring_request", "topics", "id", "job_search,cv,discover_occupation", "recherche_emploi,cv,metier"),
    ("tutoring_request", "meeting_modes", "id", "in_person,video", "presentiel,video"),
    ("meeting", "mode", "id", "phone", "telephone"),
    ("meeting", "topics", "id", "job_interview,self_confidence", "entretien,confiance"),
    ("mentee_profile", "obstacles", "user_id", "mobility,childcare,rights_access", "mobilite,garde_enfants,droits"),
    ("tutor_profile", "obstacles", "user_id", "housing,health", "logement,sante"),
    ("pair", "decline_reason", "id", "no_answer", "sans_reponse"),
    ("pair", "end_reason", "id", "too_far", "trop_loin"),
    ("pair", "outcome_contract", "id", "fixed_term", "cdd"),
    ("pair", "outcome_rights", "id", "activity_bonus,housing_aid,other", "prime_activite,logement,autre"),
    ("status_event", "entity", "id", "pair", "binome"),
    ("access_log", "action", "id", "login_failed", "echec_connexion"),
]  # fmt: skip


@pytest.fixture
def database(tmp_path):
    """An empty database of its own: a file on SQLite, a second database on PostgreSQL."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'codes.sqlite3'}"
        return
    url = make_url(PG_URL)
    name = f"{url.database}_codes"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _write_rows() -> None:
    """One of each row holding codes, written with the English codes."""
    referent = User(role=Role.REFERENT, email="r@example.org", first_name="R", last_name="R")
    mentee = User(role=Role.MENTEE, first_name="M", last_name="M")
    tutor = User(role=Role.TUTOR, email="t@example.org", first_name="T", last_name="T")
    db.session.add_all([referent, mentee, tutor])
    db.session.flush()
    db.session.add(
        MenteeProfile(
            user_id=mentee.id, referent_id=referent.id, obstacles="mobility,childcare,rights_access"
        )
    )
    db.session.add(TutorProfile(user_id=tutor.id, obstacles="housing,health"))
    request = TutoringRequest(
        mentee_id=mentee.id,
        created_by_id=referent.id,
        status=TutoringRequestStatus.MATCHED,
        topics="job_search,cv,discover_occupation",
        meeting_modes="in_person,video",
    )
    db.session.add(request)
    db.session.flush()
    pair = Pair(
        request_id=request.id,
        mentee_id=mentee.id,
        tutor_id=tutor.id,
        proposed_by_id=referent.id,
        status=PairStatus.ENDED,
        explanation=EXPLANATION,
        decline_reason="no_answer",
        end_reason="too_far",
        outcome_rows=[PairOutcome(outcome="job")],
        outcome_contract="fixed_term",
        outcome_rights="activity_bonus,housing_aid,other",
        proposed_at=NOW,
        updated_at=NOW,
    )
    db.session.add(pair)
    db.session.flush()
    db.session.add(
        Meeting(
            pair_id=pair.id,
            logged_by_id=tutor.id,
            date=date(2026, 11, 1),
            duration_minutes=60,
            mode="phone",
            topics="job_interview,self_confidence",
        )
    )
    db.session.add(
        StatusEvent(
            entity=EventEntity.PAIR,
            entity_id=pair.id,
            at=NOW,
            from_status=None,
            to_status=PairStatus.PROPOSED,
        )
    )
    db.session.add(AccessLog(action=AccessAction.LOGIN_FAILED, target="auth.login"))
    db.session.commit()


def _stored(which: int) -> None:
    with db.engine.connect() as conn:
        for table, column, key, *values in EXPECTED:
            got = conn.execute(text(f'SELECT "{column}" FROM "{table}" ORDER BY "{key}"')).scalar()
            assert got == values[which], (table, column, got)


def test_migrations_0008_0009_translate_every_stored_code(database):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": database})
    with app.app_context():
        upgrade()
        _write_rows()
        downgrade(revision="0007")
        _stored(1)  # the French codes, as a database of revision 0007 holds them
        with db.engine.connect() as conn:  # one outcome per binôme before 0011
            assert conn.execute(text("SELECT outcome FROM pair")).scalar() == "emploi"
        explanation = db.session.scalar(select(Pair.explanation))
        assert explanation["rome_level"] == "domaine"
        assert explanation["common_obstacles"] == ["garde_enfants", "droits"]
        db.session.rollback()

        upgrade()
        _stored(0)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT outcome FROM pair_outcome")).scalar() == "job"
        pair = db.session.scalars(select(Pair)).one()
        assert pair.explanation == EXPLANATION
        # The rebuilt check constraints accept the English codes and refuse the French ones.
        meeting = db.session.scalars(select(Meeting)).one()
        meeting.mode = "in_person"
        db.session.commit()
        with pytest.raises(Exception, match="mode_connu"):
            db.session.execute(text("UPDATE meeting SET mode = 'presentiel'"))
            db.session.commit()
        db.session.rollback()
        with pytest.raises(Exception, match="entite_connue"):
            db.session.execute(text("UPDATE status_event SET entity = 'demande'"))
            db.session.commit()
        db.session.rollback()
        db.engine.dispose()
