"""Emails: written to the outbox in the same transaction as the change that causes them, sent after commit.

`queue_email` never sends: it adds a row that the caller's commit makes durable (or its rollback
removes). `send_pending` (the `flask send-mail` worker) claims due rows with a short lease, sends them
with a stable Message-ID, and retries failures with growing delays.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app, has_request_context, render_template
from flask_mail import Message
from markupsafe import Markup, escape
from sqlalchemy import insert, select, update
from sqlalchemy import inspect as sa_inspect

from tutorat.extensions import db, mail
from tutorat.models import OutboxEmail, User

# Which preference each kind of email depends on; None = about the account's security, always sent.
KIND_PREFERENCE: dict[str, str | None] = {
    "proposal_tutor": "notify_proposals",
    "proposal_mentee": "notify_proposals",
    "pair_accepted": "notify_proposals",
    "pair_declined": "notify_proposals",
    "pair_confirmed_tutor": "notify_proposals",
    "pair_confirmed_mentee": "notify_proposals",
    "pair_answer": "notify_proposals",
    "pair_ended": "notify_proposals",
    "pair_withdrawn": "notify_proposals",
    "pair_person_deactivated": "notify_proposals",
    "reminder": "notify_reminders",
    "expired": "notify_reminders",
    "digest": "notify_digest",
    "invitation": None,
    "password_reset": None,
}
LEASE = timedelta(minutes=5)
_URL = re.compile(r"(https?://[^\s<>\"']+)")


def wants(user: User, kind: str) -> bool:
    preference = KIND_PREFERENCE.get(kind, "notify_proposals")
    return preference is None or bool(getattr(user, preference, True))


def _html(text: str, subject: str) -> str:
    """A simple HTML version of the text: paragraphs, line breaks and clickable links."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [
            _URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', str(escape(line)))
            for line in block.splitlines()
        ]
        paragraphs.append("<p>" + "<br>\n".join(lines) + "</p>")
    return render_template("email/layout.html", subject=subject, body=Markup("\n".join(paragraphs)))


def queue_email(
    kind: str, recipient: User, subject: str, template: str, **context
) -> OutboxEmail | None:
    """Write an email to the outbox; nothing leaves before the transaction commits."""
    if not recipient.email or not recipient.active or not wants(recipient, kind):
        return None
    base_url = current_app.config["BASE_URL"].rstrip("/")
    context.setdefault("base_url", base_url)

    def render() -> tuple[str, str]:
        text = render_template(f"email/{template}.txt", recipient=recipient, **context)
        return text, _html(text, subject)

    if has_request_context():
        text, html = render()
    else:
        # From a CLI command: a request context lets the templates call url_for().
        with current_app.test_request_context(base_url=base_url):
            text, html = render()
    domain = base_url.split("//")[-1].split("/")[0].split(":")[0] or "tutorat.local"
    email = OutboxEmail(
        kind=kind,
        recipient=recipient.email,
        subject=subject,
        body_text=text,
        body_html=html,
        message_id=f"<{kind}.{secrets.token_hex(12)}@{domain}>",
        status="pending",
        attempts=0,
        next_attempt_at=datetime.now(UTC),
    )
    db.session.add(email)
    return email


def _claim(email_id: int, now: datetime) -> bool:
    """Take a short lease on a due email, so that two workers never send it at the same time."""
    result = db.session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.id == email_id,
            OutboxEmail.status == "pending",
            OutboxEmail.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def send_pending(limit: int = 200, now: datetime | None = None) -> tuple[int, int]:
    """Send the due emails once. Returns (sent, failed this pass)."""
    now = now or datetime.now(UTC)
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    due_ids = db.session.scalars(
        select(OutboxEmail.id)
        .where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.id)
        .limit(limit)
    ).all()
    db.session.commit()
    sent = failed = 0
    for email_id in due_ids:
        if not _claim(email_id, now):
            continue
        email = db.session.get(OutboxEmail, email_id)
        message = Message(
            subject=email.subject,
            recipients=[email.recipient],
            body=email.body_text,
            html=email.body_html or None,
        )
        # Stable across retries: a resent message is recognised as the same one.
        message.msgId = email.message_id
        try:
            mail.send(message)
        except Exception as exc:
            email.attempts += 1
            email.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if email.attempts >= max_attempts:
                email.status = "failed"
            else:
                # 1, 2, 4, 8… minutes: a server that is down has time to come back.
                email.next_attempt_at = now + timedelta(minutes=2 ** (email.attempts - 1))
            failed += 1
        else:
            email.status = "sent"
            email.attempts += 1
            email.sent_at = datetime.now(UTC)
            email.last_error = ""
            sent += 1
        db.session.commit()
    return sent, failed


def retry_failed(email: OutboxEmail) -> None:
    """The admin sends a failed email again (same Message-ID)."""
    email.status = "pending"
    email.attempts = 0
    email.next_attempt_at = datetime.now(UTC)


def insert_in_bulk(emails: list[OutboxEmail | None]) -> None:
    """Write emails made by `queue_email` in one INSERT instead of one per row (batch commands).

    The ORM inserts rows one by one when it must read back their ids; a batch does not need
    them. Same rows, same transaction: nothing leaves before the commit either.
    """
    rows: dict[tuple[str, ...], list[dict]] = {}
    for email in emails:
        # Only rows not written yet (a query in between may have flushed some: they stay as they are).
        if email is None or not sa_inspect(email).pending:
            continue
        db.session.expunge(email)
        values = {
            column.key: getattr(email, column.key)
            for column in OutboxEmail.__table__.columns
            if column.key != "id" and getattr(email, column.key) is not None
        }
        rows.setdefault(tuple(sorted(values)), []).append(values)
    for batch in rows.values():
        db.session.execute(insert(OutboxEmail), batch)
