"""Erasure and anonymisation: no message names the person any more, none still leaves, no sensitive
code stays on the same id, and the outbox itself is not kept for ever."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from tests.conftest import Browser
from tests.factories import (
    PASSWORD,
    make_active_pair,
    make_admin,
    make_mentee,
    make_referent,
    make_tutor,
)
from tutorat.extensions import db
from tutorat.models import (
    MenteeProfile,
    OutboxEmail,
    Pair,
    TutorProfile,
    User,
    outbox_email_person,
)
from tutorat.services import notifications, privacy

SMALL_COMMUNE = "32130"  # Faget-Abbatial, 212 inhabitants, canton 3203 (Astarac-Gimone)
SMALL_CANTON = "3203"
LARGE_COMMUNE = "32307"  # Pavie, 2,566 inhabitants
RESET_LINK = re.compile(r"https?://\S+/mot-de-passe/\S+")


def _world(app) -> dict:
    """A mentee in a small commune, with difficulties, in an active binôme: their emails are sent."""
    with app.app_context():
        referent = make_referent(first_name="Sophie")
        mentee = make_mentee(
            referent,
            first_name="Roselyne",
            last_name="Larrieu-Dubarry",
            commune=SMALL_COMMUNE,
            remote_ok=True,
        )
        profile = db.session.get(MenteeProfile, mentee.id)
        profile.obstacles = "health,mobility"
        profile.share_first_name = True
        tutor = make_tutor(commune=LARGE_COMMUNE, remote_ok=True, max_km=60)
        tutor.tutor_profile.obstacles = "health"
        pair = make_active_pair(referent, mentee, tutor)
        admin = make_admin()
        db.session.commit()
        return {
            "mentee_id": mentee.id,
            "tutor_id": tutor.id,
            "pair_id": pair.id,
            "email": mentee.email,
            "admin": admin.email,
            "referent": referent.email,
            "names": ("Roselyne", "Larrieu-Dubarry", mentee.email),
        }


def _ask_reset(app, email: str) -> None:
    b = Browser(app.test_client())
    response = b.post("/mot-de-passe-oublie", {"email": email}, page="/mot-de-passe-oublie")
    assert response.status_code == 302


def _anonymise_through_admin_page(app, w) -> None:
    admin = Browser(app.test_client())
    assert admin.login(w["admin"], PASSWORD).status_code == 302
    response = admin.post(
        f"/admin/comptes/{w['mentee_id']}/anonymiser", {}, page="/admin/effacements"
    )
    assert response.status_code == 302


def _rows_text() -> list[str]:
    return [
        " ".join((e.recipient, e.subject, e.body_text, e.body_html, e.last_error))
        for e in db.session.scalars(select(OutboxEmail)).all()
    ]


def test_after_anonymisation_no_outbox_row_names_the_person(app, smtp):
    w = _world(app)
    _ask_reset(app, w["email"])
    with app.app_context():
        notifications.send_pending()
        # Sent: the mentee's own emails, the référent's about the mentee, the reset link.
        [reset] = [m for m in smtp.inbox.to(w["email"]) if "mot de passe" in m["Subject"]]
        link = RESET_LINK.search(smtp.inbox.text(reset)).group(0)
        to_referent = " ".join(smtp.inbox.text(m) for m in smtp.inbox.to(w["referent"]))
        assert "Larrieu-Dubarry" in to_referent  # an email naming her, addressed to someone else
    _ask_reset(app, w["email"])  # and one still pending
    with app.app_context():
        assert any(link in text for text in _rows_text())
        assert any("Larrieu-Dubarry" in text for text in _rows_text())
        # Each email naming her is linked to her, whoever it is addressed to.
        linked = set(
            db.session.scalars(
                select(outbox_email_person.c.email_id).where(
                    outbox_email_person.c.user_id == w["mentee_id"]
                )
            )
        )
        naming = {
            e.id
            for e in db.session.scalars(select(OutboxEmail))
            if "Larrieu-Dubarry" in e.body_text or w["email"] == e.recipient
        }
        assert naming and naming <= linked
    _anonymise_through_admin_page(app, w)
    with app.app_context():
        texts = _rows_text()
        assert texts  # the rows stay (counts), emptied of the person
        for secret in (*w["names"], link, "/mot-de-passe/"):
            assert not [t for t in texts if secret in t], secret
        redacted = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.redacted_at.is_not(None))
        ).all()
        assert len(redacted) >= 4 and all(e.redacted_at for e in redacted)


def test_an_email_without_links_naming_the_person_is_redacted(app, ctx):
    """Written before the links existed (migration 0004 links only the recipient)."""
    referent = make_referent()
    mentee = make_mentee(referent, first_name="Roselyne", last_name="Larrieu-Dubarry")
    db.session.add(
        OutboxEmail(
            kind="pair_accepted",
            recipient=referent.email,
            subject="Un binôme attend votre confirmation",
            body_text="Roselyne Larrieu-Dubarry et son tuteur ont accepté.",
            body_html="<p>Roselyne Larrieu-Dubarry et son tuteur ont accepté.</p>",
            message_id="<ancien@tutorat.local>",
            status="sent",
        )
    )
    db.session.commit()
    privacy.anonymise(mentee, actor=None)
    db.session.commit()
    assert not [t for t in _rows_text() if "Larrieu-Dubarry" in t]


def test_pending_email_is_not_sent_after_anonymisation(app, smtp):
    w = _world(app)
    with app.app_context():
        notifications.send_pending()
    before = len(smtp.inbox.messages)
    _ask_reset(app, w["email"])
    _anonymise_through_admin_page(app, w)
    with app.app_context():
        later = datetime.now(UTC) + timedelta(days=1)
        assert notifications.send_pending(now=later) == (0, 0)
        statuses = {e.status for e in db.session.scalars(select(OutboxEmail))}
        assert "pending" not in statuses and "cancelled" in statuses
    assert len(smtp.inbox.messages) == before
    assert not smtp.inbox.to(w["email"])[before:]


def test_anonymisation_drops_difficulties(app):
    w = _world(app)
    _anonymise_through_admin_page(app, w)
    with app.app_context():
        profile = db.session.get(MenteeProfile, w["mentee_id"])
        assert profile.obstacles == "" and profile.obstacle_codes == []
        # Nor what the binôme's explanation said about them (difficulties in common, distance).
        pair = db.session.get(Pair, w["pair_id"])
        assert "health" not in str(pair.explanation) and "santé" not in str(pair.explanation)
        assert pair.score is not None  # statistics stay
        # The tutor is not erased: their own difficulties stay.
        assert db.session.get(TutorProfile, w["tutor_id"]).obstacles == "health"


def test_anonymisation_coarsens_a_small_commune_to_its_canton(app):
    w = _world(app)
    _anonymise_through_admin_page(app, w)
    with app.app_context():
        profile = db.session.get(MenteeProfile, w["mentee_id"])
        assert profile.commune_code is None
        assert profile.canton_code == SMALL_CANTON
        tutor = db.session.get(User, w["tutor_id"])
        privacy.anonymise(tutor, actor=None)
        db.session.commit()
        # A commune of 2,000 inhabitants or more does not single anyone out: it stays.
        assert db.session.get(TutorProfile, w["tutor_id"]).commune_code == LARGE_COMMUNE


def test_purge_deletes_old_outbox_rows_and_keeps_recent_ones(app, runner):
    now = datetime.now(UTC)
    days = app.config.get("OUTBOX_RETENTION_DAYS", 90)
    old, recent = now - timedelta(days=days + 5), now - timedelta(days=days - 5)
    with app.app_context():
        tutor = make_tutor()
        rows = {}
        for name, status, at in (
            ("old_sent", "sent", old),
            ("old_failed", "failed", old),
            ("old_cancelled", "cancelled", old),
            ("old_pending", "pending", old),
            ("recent_sent", "sent", recent),
        ):
            email = notifications.queue_email("invitation", tutor, token="t", inviter=tutor)
            email.subject = name
            db.session.flush()
            db.session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id == email.id)
                .values(status=status, created_at=at, sent_at=at if status == "sent" else None)
            )
            rows[name] = email.id
        db.session.commit()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "3 courriel(s)" in result.output, result.output
    with app.app_context():
        left = set(db.session.scalars(select(OutboxEmail.subject)))
        assert left == {"old_pending", "recent_sent"}
    # Safe twice.
    assert "0 courriel(s)" in runner.invoke(args=["purge"]).output


def test_a_claimed_email_cancelled_by_a_concurrent_erasure_is_not_sent(app, ctx, smtp, monkeypatch):
    referent = make_referent()
    mentee = make_mentee(referent, first_name="Roselyne", last_name="Larrieu-Dubarry")
    notifications.queue_email(
        "password_reset",
        mentee,
        token="jeton-secret",
        hours=2,
    )
    db.session.commit()
    mentee_id = mentee.id
    claim = notifications.EMAILS.claim
    erasures = []

    def erase_elsewhere() -> None:
        # Another process (an admin's request) anonymises the person: its own session and connection.
        with app.app_context():
            privacy.anonymise(db.session.get(User, mentee_id), actor=None)
            db.session.commit()
            db.session.remove()
        erasures.append(True)

    def claim_then_erasure(email_id, now):
        # The worker has taken the email; the erasure lands before it is sent.
        claimed = claim(email_id, now)
        worker = threading.Thread(target=erase_elsewhere)
        worker.start()
        worker.join(30)
        return claimed

    monkeypatch.setattr(notifications.EMAILS, "claim", claim_then_erasure)
    notifications.send_pending()
    assert erasures == [True]
    assert smtp.inbox.messages == []
    email = db.session.scalars(select(OutboxEmail)).one()
    db.session.refresh(email)
    assert email.status == "cancelled" and "jeton-secret" not in email.body_text
    # Retrying later sends nothing either.
    monkeypatch.setattr(notifications.EMAILS, "claim", claim)
    assert notifications.send_pending(now=datetime.now(UTC) + timedelta(hours=1)) == (0, 0)
    assert smtp.inbox.messages == []


def test_a_worker_that_died_after_its_claim_is_taken_over_once(app, ctx, smtp):
    """Regression guard for the claim (pending → sending): an abandoned claim is not stranded."""
    tutor = make_tutor()
    notifications.queue_email("invitation", tutor, token="t", inviter=tutor)
    db.session.commit()
    now = datetime.now(UTC)
    email_id = db.session.scalars(select(OutboxEmail.id)).one()
    assert notifications.EMAILS.claim(email_id, now)  # ...and the worker dies here
    assert notifications.send_pending(now=now + timedelta(minutes=1)) == (0, 0)  # still leased
    assert notifications.send_pending(now=now + notifications.LEASE * 2) == (1, 0)
    assert notifications.send_pending(now=now + notifications.LEASE * 4) == (0, 0)
    assert [m["Subject"] for m in smtp.inbox.messages] == ["Votre compte Tutorat"]
