"""The outbox routine every channel shares (emails in services/notifications.py, SMS in services/sms.py).

A message is a row written in the same transaction as the change that causes it (its rollback
removes it), so nothing leaves before that change is committed. `Outbox.send_pending` (the
`flask send-mail` worker) then, for each due row:

1. claims it (pending → sending, `next_attempt_at` moved to the end of a short lease) with a
   conditional UPDATE, committed: two workers never hold the same row, and a worker that dies
   leaves it to be taken again once the lease has run out;
2. reads it, then checks again, with a second conditional UPDATE that counts the attempt, that it
   is still claimed (an erasure may have cancelled and redacted it meanwhile): a cancelled row is
   never sent;
3. hands it to the channel's sender; success marks it sent (with what the sender returns, such as
   the provider's reference), a failure puts it back to pending after 1, 2, 4, 8… minutes, and
   after MAIL_MAX_ATTEMPTS attempts marks it failed with the error, which the admin sees in
   « Courriels, SMS et courriers » and may send again (`retry_failed`).

Only a row still claimed is finished: a row cancelled while it was being sent stays cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from tutorat.extensions import db
from tutorat.models import MessageStatus
from tutorat.models.outbox import UNSENT_STATUSES
from tutorat.services.db import changed_rows

LEASE = timedelta(minutes=5)

# Sends one row; returns the columns to record with its success ({} when there is nothing to keep);
# raises when the message did not leave (the exception's text is recorded for the admin).
Send = Callable[[Any], dict[str, Any]]


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Outbox:
    """One channel's outbox: its table, and how to make its sender for a pass."""

    # A table with id, status (MessageStatus), attempts, next_attempt_at, last_error, sent_at and
    # redacted_at columns: OutboxEmail, OutboxSms.
    model: Any
    # Called once per pass that has something to send (an SMS provider's client…).
    connect: Callable[[], Send]
    # The error as the admin reads it.
    describe: Callable[[Exception], str] = _describe

    def due(self, now: datetime):
        """Rows a sender may take: pending and due, or claimed by a sender whose lease ran out
        (a claim moves next_attempt_at to the end of its lease, so one condition covers both)."""
        return self.model.status.in_(UNSENT_STATUSES) & (self.model.next_attempt_at <= now)

    def claim(self, row_id: int, now: datetime) -> bool:
        """Take a short lease on a due row (pending → sending), committed at once."""
        result = db.session.execute(
            update(self.model)
            .where(self.model.id == row_id, self.due(now))
            .values(status=MessageStatus.SENDING, next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return changed_rows(result) == 1

    def still_ours(self, row_id: int) -> bool:
        """Just before sending: is the row still claimed? A conditional UPDATE that counts the
        attempt, committed, so the database decides, not what we read."""
        result = db.session.execute(
            update(self.model)
            .where(self.model.id == row_id, self.model.status == MessageStatus.SENDING)
            .values(attempts=self.model.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return changed_rows(result) == 1

    def send_pending(self, limit: int = 200, now: datetime | None = None) -> tuple[int, int]:
        """Send the due rows once. Returns (sent, failed this pass)."""
        now = now or datetime.now(UTC)
        max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
        due_ids = db.session.scalars(
            select(self.model.id).where(self.due(now)).order_by(self.model.id).limit(limit)
        ).all()
        db.session.commit()
        send = self.connect() if due_ids else None
        sent = failed = 0
        for row_id in due_ids:
            if not self.claim(row_id, now):
                continue
            # Read after the claim, then checked again: a row cancelled (and redacted) by an
            # erasure between the claim and the check is never sent.
            row = db.session.get(self.model, row_id, populate_existing=True)
            if row is None or not self.still_ours(row_id):  # None: purged since the claim
                continue
            try:
                kept = send(row)  # type: ignore[misc]
            except Exception as exc:
                self._finish(
                    row_id, now, error=self.describe(exc)[:500], kept={}, most=max_attempts
                )
                failed += 1
            else:
                self._finish(row_id, now, error=None, kept=kept, most=max_attempts)
                sent += 1
            db.session.commit()
        return sent, failed

    def _finish(
        self, row_id: int, now: datetime, *, error: str | None, kept: dict, most: int
    ) -> None:
        claimed = update(self.model).where(
            self.model.id == row_id, self.model.status == MessageStatus.SENDING
        )
        if error is None:
            statement = claimed.values(
                status=MessageStatus.SENT, sent_at=datetime.now(UTC), last_error="", **kept
            )
        else:
            # `still_ours` counted this attempt.
            attempts = db.session.scalar(select(self.model.attempts).where(self.model.id == row_id))
            attempts = attempts or most
            statement = claimed.values(
                status=MessageStatus.FAILED if attempts >= most else MessageStatus.PENDING,
                # 1, 2, 4, 8… minutes: a server that is down has time to come back.
                next_attempt_at=now + timedelta(minutes=2 ** (attempts - 1)),
                last_error=error,
            )
        db.session.execute(statement.execution_options(synchronize_session=False))


def retry_failed(row) -> None:
    """The admin sends a failed message again (an email keeps its Message-ID)."""
    if row.redacted_at is not None or row.status != MessageStatus.FAILED:
        return
    row.status = MessageStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = datetime.now(UTC)
