"""Emails: written to the outbox in the same transaction as the change that causes them, sent after commit.

`queue_email` never sends: it adds a row that the caller's commit makes durable (or its rollback
removes), linked to every person it names. `send_pending` (the `flask send-mail` worker) claims due
rows and sends them with a stable Message-ID through the routine all outboxes share
(services/outbox.py: lease, check before sending, retries with growing delays).
"""

from __future__ import annotations

import html
import re
import secrets
from datetime import UTC, datetime

from flask import current_app
from flask_mail import Message
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup, escape

from tutorat import links
from tutorat.extensions import db, mail
from tutorat.links import absolute_url, is_ours
from tutorat.models import (
    MessageStatus,
    OutboxEmail,
    OutboxEmailPerson,
    Pair,
    User,
    outbox_email_person,
)
from tutorat.services import emails, letters, outbox, sms
from tutorat.services.contact import has_postal_address
from tutorat.services.db import allocate_ids, insert_many
from tutorat.services.errors import DomainError

_URL = re.compile(r"(https?://[^\s<>\"']+)")


def wants(user: User, kind: str) -> bool:
    """Whether `user` receives this kind of email (a security email always)."""
    return emails.kind(kind).wanted_by(user)


def _url_for_refused(*_args, **_kwargs):
    raise RuntimeError(
        "Un courriel ne doit pas appeler url_for(), qui dépend des en-têtes de la requête : "
        "utilisez link('endpoint', ...), construit depuis BASE_URL seulement."
    )


def _render(name: str, **context) -> str:
    """An email template, rendered the same way in a request and in a CLI command.

    Flask's context processors are skipped (an email has no request, session or user), `link`
    builds absolute URLs from BASE_URL alone, and `url_for` raises, so a template that would take
    its host or prefix from the request fails in the tests instead of sending a poisoned link.
    """
    template = current_app.jinja_env.get_template(name)
    return template.render(
        **context, link=absolute_url, url_for=_url_for_refused, request=None, session=None
    )


def _link_or_text(match: re.Match[str]) -> str:
    # `match` comes from the escaped text: unescape to compare, the href stays escaped.
    url = html.unescape(match.group(1))
    if is_ours(url):
        return f'<a href="{match.group(1)}">{match.group(1)}</a>'
    # Someone else's address (a tutor's free text…): plain text, never a link we vouch for.
    return match.group(1)


def _html(text: str, subject: str) -> str:
    """A simple HTML version of the text: paragraphs, line breaks, and links to our own pages only."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [_URL.sub(_link_or_text, str(escape(line))) for line in block.splitlines()]
        paragraphs.append("<p>" + "<br>\n".join(lines) + "</p>")
    return _render("email/layout.html", subject=subject, body=Markup("\n".join(paragraphs)))


def queue_email(kind: str, recipient: User, **context) -> OutboxEmail | None:
    """Send a notice of a registered kind (`emails.KINDS`) by every way `recipient` accepts.

    - an email when they have an address and accept emails (a security email always);
    - an SMS too when the kind has a short text (`templates/sms/<kind>.txt`) and they gave a
      mobile number and accept SMS;
    - a letter, queued for their référent to print, when they asked for paper or cannot be
      reached by email and have a postal address (security emails excepted: a password link is
      never posted; nor a notice a letter would bring too late, `by_letter=False`); without an
      address, their référent is told instead (« Adresse manquante »).

    Each is written in the caller's transaction; nothing leaves before it commits. Returns the
    email, if one was written. The routing knows no kind by name: every kind declared in the
    registry follows it."""
    declared = emails.kind(kind)
    if not recipient.active or not declared.wanted_by(recipient):
        return None
    people = people_named(recipient, context)
    email = None
    # A tutor application's emails go to the address the person typed, by email only: they have
    # no référent to post a letter, and no contact preferences yet (services/vetting.py).
    by_email = bool(recipient.email) and (
        recipient.contact_email or declared.account_security or declared.applicant
    )
    if by_email:
        email = _queue_email_row(declared, recipient, people, context)
    if declared.account_security or declared.applicant:
        return email
    subject = declared.subject_for(context)
    if sms.has_text(kind) and sms.accepts_sms(recipient):
        sms.queue_sms(kind, recipient, subject, people, **context)
    if (
        declared.by_letter
        and (recipient.contact_letter or not by_email)
        and has_postal_address(recipient)
    ):
        text = _render(declared.template, recipient=recipient, channel="letter", **context)
        letters.queue_letter(kind, recipient, subject, text, people, context)
    # Without a postal address no letter is prepared (it could not be posted): the person is in
    # their référent's « Adresse manquante » list (letters.missing_addresses) until it is given.
    return email


def unsubscribe_token(user: User, preference: emails.Preference) -> str:
    return _unsubscribe_serializer().dumps({"u": user.id, "p": preference.field})


def read_unsubscribe_token(token: str) -> tuple[int, emails.Preference] | None:
    """The account and the preference a one-click link turns off, or None if it was tampered with."""
    try:
        data = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    preference = next((p for p in emails.PREFERENCES if p.field == data.get("p")), None)
    if preference is None or not isinstance(data.get("u"), int):
        return None
    return data["u"], preference


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="desabonnement")


def _queue_email_row(
    declared: emails.EmailKind, recipient: User, people: set[int], context: dict
) -> OutboxEmail:
    base_url = links.base_url()
    subject = declared.subject_for(context)
    # Links come from BASE_URL only, never from the request (its Host and X-Forwarded-* headers).
    text = _render(declared.template, recipient=recipient, channel="email", **context)
    unsubscribe = ""
    if declared.preference is not None:
        # RFC 8058: a one-click address (POST) in the headers, and the settings page in the text.
        unsubscribe = absolute_url(
            "main.unsubscribe", token=unsubscribe_token(recipient, declared.preference)
        )
        text = (
            text.rstrip()
            + "\n\n---\nChoisir les messages que vous recevez : "
            + absolute_url("account.settings")
            + "\nNe plus recevoir ce type de courriel : "
            + unsubscribe
            + "\n"
        )
    body_html = _html(text, subject)
    domain = base_url.split("//")[-1].split("/")[0].split(":")[0] or "tutorat.local"
    email = OutboxEmail(
        kind=declared.name,
        recipient=recipient.email,
        subject=subject,
        body_text=text,
        body_html=body_html,
        message_id=f"<{declared.name}.{secrets.token_hex(12)}@{domain}>",
        status=MessageStatus.PENDING,
        attempts=0,
        next_attempt_at=datetime.now(UTC),
        unsubscribe_url=unsubscribe,
    )
    email.people = [OutboxEmailPerson(user_id=uid) for uid in sorted(people)]
    db.session.add(email)
    return email


def queue_many(kind: str, messages: list[tuple[User, dict]]) -> int:
    """`queue_email` for many recipients at once (an import's invitations): the same rendering and
    rules, the rows written by two multi-row inserts instead of one object each. How many queued."""
    declared = emails.kind(kind)
    base_url = links.base_url()
    domain = base_url.split("//")[-1].split("/")[0].split(":")[0] or "tutorat.local"
    now = datetime.now(UTC)
    rows: list[dict] = []
    people: list[set[int]] = []
    for recipient, context in messages:
        if not recipient.email or not recipient.active or not declared.wanted_by(recipient):
            continue
        subject = declared.subject_for(context)
        text = _render(declared.template, recipient=recipient, **context)
        rows.append(
            {
                "kind": kind,
                "recipient": recipient.email,
                "subject": subject,
                "body_text": text,
                "body_html": _html(text, subject),
                "message_id": f"<{kind}.{secrets.token_hex(12)}@{domain}>",
                "status": MessageStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "last_error": "",
            }
        )
        people.append(people_named(recipient, context))
    ids = allocate_ids(db.session, "outbox_email", len(rows))
    for row, email_id in zip(rows, ids, strict=True):
        row["id"] = email_id
    if rows:
        insert_many(db.session, OutboxEmail.__table__, rows)
        insert_many(
            db.session,
            outbox_email_person,
            [
                {"email_id": email_id, "user_id": uid}
                for email_id, named in zip(ids, people, strict=True)
                for uid in sorted(named)
            ],
        )
    return len(rows)


def people_named(recipient: User, context: dict) -> set[int]:
    """Everyone an email may name: its recipient, every person and both sides of every binôme passed
    to its template (and the binôme's référent). Deny by default: whatever the template could print
    about a person links the email to them, so erasing that person finds it."""
    ids = {recipient.id}
    for value in context.values():
        if isinstance(value, User):
            ids.add(value.id)
        elif isinstance(value, Pair):
            ids.update((value.mentee_id, value.tutor_id, value.proposed_by_id))
            profile = value.mentee.mentee_profile if value.mentee is not None else None
            if profile is not None:
                ids.add(profile.referent_id)
    ids.discard(None)
    return ids


def _send_email(email: OutboxEmail) -> dict:
    message = Message(
        subject=email.subject,
        recipients=[email.recipient],
        body=email.body_text,
        html=email.body_html or None,
    )
    # Stable across retries: a resent message is recognised as the same one.
    message.msgId = email.message_id
    if email.unsubscribe_url:
        message.extra_headers = {
            "List-Unsubscribe": f"<{email.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    mail.send(message)
    return {}


# The email outbox: the shared routine (services/outbox.py) with Flask-Mail as its sender.
EMAILS = outbox.Outbox(OutboxEmail, connect=lambda: _send_email)
LEASE = outbox.LEASE


def send_pending(limit: int = 200, now: datetime | None = None) -> tuple[int, int]:
    """Send the due emails once. Returns (sent, failed this pass)."""
    return EMAILS.send_pending(limit, now)


def retry_failed(email: OutboxEmail) -> None:
    """The admin sends a failed email again (same Message-ID)."""
    outbox.retry_failed(email)


def unsubscribe(token: str) -> tuple[User, emails.Preference]:
    """One click in an email (or its List-Unsubscribe header): that kind of email is turned off."""
    found = read_unsubscribe_token(token)
    user = db.session.get(User, found[0]) if found else None
    if found is None or user is None or user.anonymised_at is not None:
        raise DomainError("Ce lien de désabonnement n'est pas valable.")
    setattr(user, found[1].field, False)
    return user, found[1]


def unsubscribe_target(token: str) -> tuple[User, emails.Preference] | None:
    """What a link would turn off (read only, for the confirmation page)."""
    found = read_unsubscribe_token(token)
    user = db.session.get(User, found[0]) if found else None
    if found is None or user is None or user.anonymised_at is not None:
        return None
    return user, found[1]
