"""The fairness audit page: the admin sees the département, a référent their caseload; CSV; small groups hidden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Browser
from tests.factories import (
    PASSWORD,
    make_active_pair,
    make_admin,
    make_mentee,
    make_proposal,
    make_referent,
    make_tutor,
)
from tutorat.extensions import db
from tutorat.models import Pair, StopReason, TutoringRequest
from tutorat.services import fairness
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service


def _login(app, email):
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


def _world(app):
    """Two référents: one with 8 people without a car in a small commune, 6 of whom still wait after 90 days;
    the other with 8 people with a car in Auch, all proposed a tutor within a few days."""
    with app.app_context():
        slow, fast = make_referent(), make_referent()
        long_ago = datetime.now(UTC) - timedelta(days=90)
        for i in range(8):
            mentee = make_mentee(slow, commune="32002", has_car=False)  # Ansan, 75 inhabitants
            if i < 2:
                make_proposal(slow, mentee, make_tutor(commune="32002", remote_ok=True))
            else:
                request_service.open_request(
                    mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
                )
        for i in range(8):
            mentee = make_mentee(fast, commune="32013", has_car=True)
            if i < 2:  # two binômes ended: one with a job, one stopped
                tutor = make_tutor(commune="32013")
                pair = make_active_pair(fast, mentee, tutor)
                pair_service.end(
                    pair,
                    actor=fast,
                    outcomes=["job"] if i == 0 else ["stopped"],
                    stop_reason=None if i == 0 else next(iter(StopReason)).value,
                    contract="permanent" if i == 0 else None,
                )
            else:
                make_proposal(fast, mentee, make_tutor(commune="32013"))
        db.session.flush()
        for req in db.session.query(TutoringRequest):
            req.created_at = long_ago
        for pair in db.session.query(Pair):
            pair.proposed_at = long_ago + timedelta(days=3)
        admin = make_admin()
        db.session.commit()
        return admin.email, slow.email, fast.email, slow.id


def test_audit_finds_the_gap_and_scopes_by_referent(app):
    admin, slow, _fast, slow_id = _world(app)
    with app.app_context():
        report = fairness.report()
        assert report.whole.demandes == 16
        rows = {(r.dimension, r.group): r for r in report.rows}
        no_car = rows[(fairness.CAR, "Sans voiture")]
        assert no_car.demandes == 8 and no_car.within_60.value == 2 / 8
        with_car = rows[(fairness.CAR, "Avec voiture")]
        assert with_car.within_60.value == 1.0
        assert with_car.positive.n == 2 and with_car.positive.value == 0.5
        assert rows[(fairness.SIZE, "1. moins de 200 habitants")].demandes == 8
        assert any(g.startswith("Sans voiture") for g in report.gaps)
        mine = fairness.report(referent_id=slow_id)
        assert mine.whole.demandes == 8 and not mine.whole_department
    html = _login(app, admin).get("/indicateurs/equite").get_data(as_text=True)
    assert "Qui attend plus longtemps" in html and "Sans voiture (voiture)" in html
    assert "Toutes les demandes du département" in html
    page = _login(app, slow).get("/indicateurs/equite")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Les demandes des personnes que vous suivez" in text
    # Only their caseload: nobody of theirs has a car.
    assert "Sans voiture" in text and "Avec voiture" not in text


def test_csv_export_and_small_groups(app):
    admin, *_ = _world(app)
    b = _login(app, admin)
    r = b.get("/indicateurs/equite.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    body = r.get_data().decode("utf-8-sig")
    header, *lines = body.splitlines()
    assert header.startswith("Critère;Groupe;Demandes;Proposition en 30 jours (%)")
    assert any(line.startswith("Voiture;Sans voiture;8;") for line in lines)
    # Obstacles: nobody declared one; no row. Groups under 5 show "moins de 5", never a figure.
    with app.app_context():
        report = fairness.report()
        for row in report.table().rows:
            if row[2] == "moins de 5":
                assert all(v is None for v in row[3:10])


def test_empty_audit_explains(app):
    with app.app_context():
        email = make_admin().email
        db.session.commit()
    html = _login(app, email).get("/indicateurs/equite").get_data(as_text=True)
    assert "pas encore de demande de plus de 60 jours" in html


def test_the_weekly_digest_names_the_largest_gaps_and_links_the_audit(app):
    """Issue 18: the référent's weekly email says, in plain French, which of their people wait
    longer (a gap chance does not explain), with the link to the audit page; nothing otherwise."""
    from sqlalchemy import select

    from tutorat.models import OutboxEmail
    from tutorat.services import followup

    with app.app_context():
        referent, even = make_referent(), make_referent()
        long_ago = datetime.now(UTC) - timedelta(days=90)
        for i in range(10):
            waiting = make_mentee(referent, commune="32002", has_car=False)
            if i < 1:
                make_proposal(referent, waiting, make_tutor(commune="32002", remote_ok=True))
            else:
                request_service.open_request(
                    waiting,
                    actor=waiting,
                    topics=["cv"],
                    meeting_modes=["video"],
                    message="Bonjour",
                )
            make_proposal(referent, make_mentee(referent, has_car=True), make_tutor())
        make_proposal(even, make_mentee(even, has_car=True), make_tutor())
        db.session.flush()
        for req in db.session.query(TutoringRequest):
            req.created_at = long_ago
        for pair in db.session.query(Pair):
            pair.proposed_at = long_ago + timedelta(days=3)
        db.session.commit()
        ids = referent.id, even.id
        digest = followup.weekly_digest(referent, datetime.now(UTC))
        gaps = digest["fairness_gaps"]
        assert len(gaps) == followup.DIGEST_FAIRNESS_GAPS  # the largest ones only
        assert all("10 % des demandes reçoivent une proposition en 60 jours" in g for g in gaps)
        assert "(soit 0,18 fois" in gaps[0]  # written the French way
        assert followup.send_digests(now=datetime.now(UTC)) == 2
        emails = {
            e.recipient: e.body_text
            for e in db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "digest"))
        }
        from tutorat.models import User

        mine = emails[db.session.get(User, ids[0]).email]
        assert "Qui attend plus longtemps ?" in mine
        assert f"- {gaps[0]}" in mine and f"- {gaps[1]}" in mine
        assert "/indicateurs/equite" in mine
        other = emails[db.session.get(User, ids[1]).email]
        assert "Qui attend plus longtemps" not in other and "/indicateurs/equite" not in other
