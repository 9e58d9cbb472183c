"""The indicators' monthly summary (indicator_month, migration 0026's triggers) equals the figures
aggregated from the tables: after service operations, direct writes, a transfer of caseload, the
demo and the Gers-scale generator, for the admin and for every référent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, func, select, text, update

from tests.factories import make_mentee, make_referent, make_tutor
from tests.tutorat.test_indicators import _accept_both, _open, world  # noqa: F401 (fixture)
from tests.tutorat.test_migration_codes import _write_rows, database  # noqa: F401 (fixture)
from tutorat import create_app
from tutorat.demo.scale import Targets, seed_scale
from tutorat.extensions import db
from tutorat.models import IndicatorMonth, Meeting, MenteeProfile, Pair, Role, User
from tutorat.services import caseload, indicators
from tutorat.services import pairs as pair_service
from tutorat.services.indicators.queries import summary_covers
from tutorat.services.indicators.report import Period


def _figures(report) -> dict:
    figures = dict(vars(report))
    figures.pop("_tables")
    return figures


def _periods(today: date) -> list[Period]:
    last_month_end = today.replace(day=1) - timedelta(days=1)
    return [
        indicators.default_period(today),
        Period(date(2000, 1, 1), today),
        Period(last_month_end.replace(day=1), last_month_end),
        Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    ]


def assert_summary_matches_the_tables() -> int:
    """For the admin and each référent, over whole-month periods: the same report from the summary
    and from the tables. Returns how many reports were compared."""
    today = datetime.now(UTC).date()
    scopes = [None, *db.session.scalars(select(User.id).where(User.role == Role.REFERENT))]
    compared = 0
    for period in _periods(today):
        assert summary_covers(period, today)
        for referent_id in scopes:
            kwargs = {"referent_id": referent_id, "territories": False, "today": today}
            from_summary = indicators.build_report(period, summary=True, **kwargs)
            from_tables = indicators.build_report(period, summary=False, **kwargs)
            assert _figures(from_summary) == _figures(from_tables), (period, referent_id)
            compared += 1
    return compared


def test_summary_covers_whole_months_only():
    today = date(2026, 12, 4)
    assert summary_covers(Period(date(2025, 12, 1), today), today)
    assert summary_covers(Period(date(2026, 2, 1), date(2026, 2, 28)), today)
    assert summary_covers(Period(date(2026, 2, 1), date(2027, 3, 3)), today)
    assert not summary_covers(Period(date(2026, 2, 2), today), today)
    assert not summary_covers(Period(date(2026, 2, 1), date(2026, 2, 27)), today)
    assert not summary_covers(Period(date(2026, 2, 1), date(2026, 12, 3)), today)


def test_the_summary_follows_services_and_direct_writes(world, app):  # noqa: F811
    """The indicators' world (demandes, proposals, answers, meetings, an ending, dates moved back by
    UPDATE), then: a transfer of caseload, a meeting contested then deleted, an ending with two
    outcomes, a withdrawal, a profile deleted."""
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IndicatorMonth)) > 0
        assert_summary_matches_the_tables()

        a, b = db.session.get(User, world["a"]), db.session.get(User, world["b"])
        admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
        moved = db.session.scalars(
            select(MenteeProfile.user_id).where(MenteeProfile.referent_id == a.id).limit(2)
        ).all()
        caseload.transfer(from_referent=a, to_referent=b, actor=admin, mentee_ids=list(moved))
        db.session.commit()
        assert_summary_matches_the_tables()

        meeting = db.session.scalars(select(Meeting).order_by(Meeting.id)).first()
        meeting.mentee_confirmation = "contested"
        db.session.commit()
        assert_summary_matches_the_tables()
        db.session.execute(delete(Meeting).where(Meeting.id == meeting.id))
        db.session.commit()
        assert_summary_matches_the_tables()

        c = make_referent()
        tutor = make_tutor(capacity=3, remote_ok=True)
        mentee = make_mentee(c, remote_ok=True)
        first = pair_service.propose(_open(mentee, c), tutor.id, actor=c)
        _accept_both(first, tutor, c)
        pair_service.confirm(first, actor=c)
        pair_service.end(first, actor=c, outcomes=["job", "left_rsa"], contract="permanent")
        db.session.commit()
        assert_summary_matches_the_tables()

        other = make_mentee(c, remote_ok=True)
        second = pair_service.propose(
            _open(other, c), make_tutor(capacity=1, remote_ok=True).id, actor=c
        )
        pair_service.withdraw(second, actor=c)
        db.session.execute(
            update(Pair)
            .where(Pair.id == second.id)
            .values(proposed_at=datetime.now(UTC) - timedelta(days=200))
        )
        db.session.commit()
        assert_summary_matches_the_tables()

        # A profile without référent row any more (its person's figures count for the
        # département only), then a référent again.
        db.session.execute(delete(MenteeProfile).where(MenteeProfile.user_id == other.id))
        db.session.commit()
        assert_summary_matches_the_tables()
        db.session.add(MenteeProfile(user_id=other.id, referent_id=c.id))
        db.session.commit()
        assert_summary_matches_the_tables()


def test_the_summary_after_the_demo_and_the_gers_generator(app, runner):
    with app.app_context():
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        assert_summary_matches_the_tables()
        seed_scale(
            Targets(mentees=300, tutors=100, referents=5, pairs=200, meetings=500),
            seed=7,
            echo=False,
        )
        db.session.commit()
        assert assert_summary_matches_the_tables() > 20


def _summary_rows() -> list[tuple]:
    with db.engine.connect() as conn:
        return sorted(
            conn.execute(
                text("SELECT referent_id, month, kind, item, n FROM indicator_month WHERE n <> 0")
            ).all()
        )


def test_migration_0026_backfills_and_downgrades(database):  # noqa: F811
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": database})
    with app.app_context():
        upgrade()
        _write_rows()
        kept = _summary_rows()
        assert {row[2] for row in kept} >= {"created", "answer"}
        downgrade(revision="0025")
        with db.engine.begin() as conn:
            # Without the summary, writes to its tables work as before.
            conn.execute(text("UPDATE pair SET decline_reason = NULL"))
        upgrade()
        # The backfill counts the rows as they are now.
        assert _summary_rows() == [
            (*row[:3], "ended|" if row[3] == "ended|no_answer" else row[3], row[4]) for row in kept
        ]
        db.engine.dispose()
