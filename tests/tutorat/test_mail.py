"""Emails through a real SMTP server in the test process (aiosmtpd): what arrives, and nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from tests.conftest import Browser
from tests.factories import PASSWORD, make_mentee, make_referent, make_tutor
from tests.tutorat.conftest import Inbox
from tutorat.extensions import db
from tutorat.models import MenteeProfile, OutboxEmail, User
from tutorat.services import notifications
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service


def _active_pair():
    referent = make_referent(first_name="Sophie")
    mentee = make_mentee(referent, first_name="Julie", last_name="Carrère", phone="06 11 22 33 44")
    profile = db.session.get(MenteeProfile, mentee.id)
    profile.share_phone, profile.share_email = True, False
    tutor = make_tutor(first_name="Marc")
    tutoring_request = request_service.open_request(
        mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
    )
    db.session.flush()
    pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
    return referent, mentee, tutor, pair


def test_journey_emails_arrive_in_french(app, ctx, smtp, runner):
    referent, mentee, tutor, pair = _active_pair()
    db.session.commit()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0 and "2 courriel(s) envoyé(s)" in result.output, result.output
    [to_tutor] = smtp.inbox.to(tutor.email)
    [to_mentee] = smtp.inbox.to(mentee.email)
    assert "Une personne pourrait avoir besoin de vous" in to_tutor["Subject"]
    assert f"/tuteur/binome/{pair.id}" in Inbox.text(to_tutor)
    assert to_tutor.get_body(preferencelist=("html",)) is not None
    assert to_mentee["Subject"] == "Un tuteur vous est proposé"

    pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
    pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
    pair_service.confirm(pair, actor=referent)
    db.session.commit()
    notifications.send_pending()
    confirmation = [
        m for m in smtp.inbox.to(tutor.email) if m["Subject"] == "Votre binôme commence"
    ]
    assert len(confirmation) == 1
    body = Inbox.text(confirmation[0])
    assert "06 11 22 33 44" in body  # shared by the mentee
    assert mentee.email not in body and "Carrère" not in body  # not shared
    assert smtp.inbox.to(referent.email)  # "both accepted: please confirm"
    # Every message has its Message-ID, the one stored in the outbox.
    ids = {m["Message-ID"] for m in smtp.inbox.messages}
    assert ids == set(
        db.session.scalars(select(OutboxEmail.message_id).where(OutboxEmail.status == "sent"))
    )


def test_preferences_are_honoured_except_security(app, ctx, smtp):
    referent = make_referent()
    tutor = make_tutor(notify_proposals=False)
    mentee = make_mentee(referent)
    tutoring_request = request_service.open_request(
        mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
    )
    db.session.flush()
    pair_service.propose(tutoring_request, tutor.id, actor=referent)
    from tutorat.services.accounts import password_token

    notifications.queue_email(
        "password_reset",
        tutor,
        token=password_token(tutor, "reset"),
        hours=2,
    )
    db.session.commit()
    notifications.send_pending()
    assert [m["Subject"] for m in smtp.inbox.to(tutor.email)] == ["Choisir un nouveau mot de passe"]


def test_smtp_down_then_up_100_delivered_0_lost_0_duplicated(app, ctx, smtp, runner):
    smtp.stop()
    people = [make_tutor() for _ in range(10)]
    for i in range(100):
        email = notifications.queue_email(
            "invitation", people[i % 10], token="jeton", inviter=people[0]
        )
        email.subject = f"Message {i}"  # tells the 100 apart in the inbox
    db.session.commit()
    result = runner.invoke(args=["send-mail"])
    assert "0 courriel(s) envoyé(s), 100 en échec" in result.output, result.output
    assert db.session.scalar(select(func.count()).where(OutboxEmail.status == "pending")) == 100
    assert smtp.inbox.messages == []

    smtp.start()
    # The retry delay has passed.
    db.session.execute(
        update(OutboxEmail).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()
    result = runner.invoke(args=["send-mail", "--loop", "--interval", "0", "--max-passes", "3"])
    assert result.exit_code == 0, result.output
    subjects = [m["Subject"] for m in smtp.inbox.messages]
    assert len(subjects) == 100 and len(set(subjects)) == 100
    assert len({m["Message-ID"] for m in smtp.inbox.messages}) == 100
    assert db.session.scalar(select(func.count()).where(OutboxEmail.status == "sent")) == 100
    # A further pass sends nothing again.
    runner.invoke(args=["send-mail"])
    assert len(smtp.inbox.messages) == 100


def test_failed_after_max_attempts_is_shown_to_admin(app, smtp):
    smtp.stop()
    with app.app_context():
        tutor = make_tutor()
        from tests.factories import make_admin

        admin_email = make_admin().email
        email = notifications.queue_email("invitation", tutor, token="t", inviter=tutor)
        email.subject = "Jamais reçu"  # to find it on the page
        db.session.commit()
        now = datetime.now(UTC)
        for attempt in range(app.config["MAIL_MAX_ATTEMPTS"]):
            notifications.send_pending(now=now + timedelta(days=attempt + 1))
        failed = db.session.scalars(select(OutboxEmail)).one()
        assert failed.status == "failed" and failed.attempts == app.config["MAIL_MAX_ATTEMPTS"]
        failed_id = failed.id
    b = Browser(app.test_client())
    b.login(admin_email, PASSWORD)
    page = b.get("/admin/courriels").get_data(as_text=True)
    assert "Jamais reçu" in page
    assert b.post(f"/admin/courriels/{failed_id}/renvoyer", {}).status_code == 302
    smtp.start()
    with app.app_context():
        notifications.send_pending()
        assert db.session.get(OutboxEmail, failed_id).status == "sent"
    assert [m["Subject"] for m in smtp.inbox.messages] == ["Jamais reçu"]


def test_password_reset_same_answer_and_single_use(app, smtp):
    with app.app_context():
        tutor = make_tutor()
        db.session.commit()
        address = tutor.email
    b = Browser(app.test_client())
    known = b.post(
        "/mot-de-passe-oublie",
        {"email": address},
        page="/mot-de-passe-oublie",
        follow_redirects=True,
    )
    unknown = b.post(
        "/mot-de-passe-oublie",
        {"email": "personne@example.org"},
        page="/mot-de-passe-oublie",
        follow_redirects=True,
    )
    assert "Si un compte existe avec cette adresse" in known.get_data(as_text=True)
    assert "Si un compte existe avec cette adresse" in unknown.get_data(as_text=True)
    with app.app_context():
        notifications.send_pending()
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 1
    [message] = smtp.inbox.messages
    link = next(
        line for line in Inbox.text(message).splitlines() if "/mot-de-passe/" in line
    ).strip()
    path = link.split("localhost", 1)[1]
    new = "Trois-mots-de-passe-solides-42"
    assert (
        b.post(path, {"password": new, "confirm": new}, page=path).status_code == 422
    )  # no consent
    assert (
        b.post(path, {"password": new, "confirm": new, "consent": "y"}, page=path).status_code
        == 302
    )
    assert b.client.get(path).status_code == 410  # single use: « déjà servi »
    assert Browser(app.test_client()).login(address, new).status_code == 302


def test_outbox_row_is_rolled_back_with_the_change(app, ctx):
    """An email is never sent for a change that did not happen."""
    _referent, _mentee, _tutor, _pair = _active_pair()
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 2
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
