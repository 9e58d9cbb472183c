"""Emails queued in the outbox during the request (same transaction), sent after commit."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app, has_request_context, render_template
from flask_mail import Message
from sqlalchemy import select

from tutorat.extensions import db, mail
from tutorat.models import OutboxEmail, User


def queue_email(kind: str, recipient: User, subject: str, template: str, **context) -> OutboxEmail | None:
    """Write an email to the outbox; nothing is sent before the transaction commits."""
    if not recipient.email or not recipient.active:
        return None
    context.setdefault("base_url", current_app.config["BASE_URL"].rstrip("/"))
    if has_request_context():
        text = render_template(f"email/{template}.txt", recipient=recipient, **context)
    else:
        # From a CLI command: a request context lets the templates call url_for().
        with current_app.test_request_context(base_url=context["base_url"]):
            text = render_template(f"email/{template}.txt", recipient=recipient, **context)
    domain = current_app.config["BASE_URL"].split("//")[-1].split("/")[0].split(":")[0] or "tutorat.local"
    email = OutboxEmail(
        kind=kind,
        recipient=recipient.email,
        subject=subject,
        body_text=text,
        message_id=f"<{kind}.{secrets.token_hex(12)}@{domain}>",
    )
    db.session.add(email)
    return email


def send_pending(limit: int = 100) -> tuple[int, int]:
    """Send due emails once; retry later with a growing delay. Returns (sent, failed)."""
    now = datetime.now(UTC)
    due = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for email in due:
        message = Message(
            subject=email.subject,
            recipients=[email.recipient],
            body=email.body_text,
            html=email.body_html or None,
            extra_headers={"Message-ID": email.message_id},
        )
        try:
            mail.send(message)
        except Exception as exc:
            email.attempts += 1
            email.last_error = str(exc)[:500]
            if email.attempts >= 8:
                email.status = "failed"
            else:
                email.next_attempt_at = now + timedelta(minutes=2 ** email.attempts)
            failed += 1
        else:
            email.status = "sent"
            email.attempts += 1
            email.sent_at = now
            sent += 1
        db.session.commit()
    return sent, failed
