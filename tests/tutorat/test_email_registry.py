"""The email registry (services/emails.py): every kind declared once, and everything derives from it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.conftest import ROOT, Browser
from tests.factories import PASSWORD, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import OutboxEmail, User
from tutorat.services import followup, notifications
from tutorat.services.emails import KINDS, PREFERENCES, EmailKind, preferences_for

EMAIL_TEMPLATES = ROOT / "templates" / "email"
# The frame and the shared pieces, not kinds of email.
NOT_KINDS = {"layout.html"}
SECURITY = sorted(name for name, kind in KINDS.items() if kind.account_security)
GOVERNED = sorted(name for name, kind in KINDS.items() if kind.preference is not None)
# About a tutor application: to someone without an account (services/vetting.py).
APPLICANT = sorted(name for name, kind in KINDS.items() if kind.applicant)


def test_every_kind_has_its_template_and_every_template_its_kind():
    templates = {
        p.name
        for p in EMAIL_TEMPLATES.iterdir()
        if not p.name.startswith("_") and p.name not in NOT_KINDS
    }
    assert {KINDS[name].template.removeprefix("email/") for name in KINDS} == templates
    for name, kind in KINDS.items():
        assert kind.name == name
        assert (ROOT / "templates" / kind.template).is_file(), name


def test_the_registry_is_consistent():
    assert SECURITY == ["invitation", "password_reset"]
    for kind in KINDS.values():
        assert kind.subject.strip() and kind.subject[0].isupper(), kind.name
        assert (kind.preference is None) == (kind.account_security or kind.applicant), kind.name
        if kind.preference is not None:
            assert kind.preference in PREFERENCES
    # Every preference governs at least one kind, or it would be a checkbox that does nothing.
    assert {k.preference for k in KINDS.values() if k.preference} == set(PREFERENCES)
    # A security email with a preference (or an ordinary one without) cannot be declared.
    with pytest.raises(ValueError):
        EmailKind("oops", "Oups", None)
    with pytest.raises(ValueError):
        EmailKind("oops", "Oups", PREFERENCES[0], account_security=True, label="oups")
    with pytest.raises(ValueError):
        EmailKind("oops", "Oups", PREFERENCES[0], applicant=True)
    assert APPLICANT == [
        "application_invitation",
        "application_received",
        "application_refused",
        "application_validated",
    ]


def _all_off() -> User:
    return make_tutor(**{p.field: False for p in PREFERENCES})


@pytest.mark.parametrize("name", SECURITY)
def test_security_kinds_ignore_preferences(app, ctx, smtp, name):
    person = _all_off()
    email = notifications.queue_email(name, person, token="jeton", hours=2, inviter=person)
    assert email is not None and email.kind == name
    db.session.commit()
    assert notifications.send_pending() == (1, 0)
    [message] = smtp.inbox.to(person.email)
    assert message["Subject"] == KINDS[name].subject
    assert "jeton" in smtp.inbox.text(message)


@pytest.mark.parametrize("name", GOVERNED)
def test_other_kinds_follow_their_preference(app, ctx, name):
    preference = KINDS[name].preference
    person = make_tutor(**{preference.field: False})
    # Turned off: nothing is written (not even rendered, so no context is needed).
    assert notifications.queue_email(name, person) is None
    assert notifications.wants(person, name) is False
    setattr(person, preference.field, True)
    assert notifications.wants(person, name) is True


def test_an_undeclared_kind_is_refused(app, ctx):
    person = make_tutor()
    with pytest.raises(LookupError, match="inconnu"):
        notifications.queue_email("newsletter", person)
    assert db.session.scalars(select(OutboxEmail)).all() == []


def test_subject_placeholders_come_from_the_context(app, ctx):
    referent = make_referent()
    make_mentee(referent)
    now = datetime(2026, 3, 11, 9, tzinfo=UTC)
    assert followup.send_digests(now=now) == 1
    email = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "digest")).one()
    assert email.subject == "Tutorat : votre résumé de la semaine 11"


def test_account_page_lists_the_registry_preferences(app, client):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, notify_digest=True)
        db.session.commit()
        referent_email, mentee_email, mentee_id = referent.email, mentee.email, mentee.id
    for address, role in ((referent_email, "referent"), (mentee_email, "mentee")):
        b = Browser(app.test_client())
        assert b.login(address, PASSWORD).status_code == 302
        page = b.get("/compte/").get_data(as_text=True)
        offered = preferences_for(role)
        for preference in PREFERENCES:
            assert (f'name="notif-{preference.field}"' in page) == (preference in offered)
            assert (preference.label in page) == (preference in offered)
        assert "(invitation, nouveau mot de passe)" in page
    # A mentee unticks everything: what was not offered (the weekly digest) is left as it was.
    response = b.post("/compte/", {}, prefix="notif", page="/compte/")
    assert response.status_code == 302
    with app.app_context():
        mentee = db.session.get(User, mentee_id)
        assert (mentee.notify_proposals, mentee.notify_reminders) == (False, False)
        assert mentee.notify_digest is True
