"""SMS: short notices to people who gave a mobile number and accept SMS.

`queue_sms` writes a row of the SMS outbox in the caller's transaction; `send_pending` (run by the
same `flask send-mail` worker as the emails) sends the due rows through the provider chosen by
SMS_PROVIDER, with the routine all outboxes share (services/outbox.py: lease, check before sending,
retries with growing delays, failures shown to the admin). Texts are GSM-7 (accents outside that
alphabet are replaced) and must fit in two 160-character segments.
"""

from __future__ import annotations

import json
import unicodedata
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from jinja2 import TemplateNotFound
from sqlalchemy import select, update

from tutorat.extensions import db
from tutorat.links import absolute_url
from tutorat.models import MessageStatus, OutboxSms, OutboxSmsPerson, User
from tutorat.services import outbox
from tutorat.services.contact import mobile_e164
from tutorat.services.errors import DomainError

MAX_SEGMENTS = 2

# The GSM 03.38 basic alphabet, and its extension table (each of those counts twice).
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"
# What French text often holds that GSM-7 lacks, written as the French would by hand.
_REPLACE = {
    "’": "'",
    "‘": "'",
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
    "…": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "œ": "oe",
    "Œ": "OE",
    "ç": "c",
}


def to_gsm7(text: str) -> str:
    """The text in the GSM-7 alphabet: typographic signs simplified, ê â î ô û ç ï… unaccented."""
    out = []
    for char in text:
        char = _REPLACE.get(char, char)
        if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in char):
            out.append(char)
            continue
        base = unicodedata.normalize("NFD", char)[0]
        out.append(base if base in GSM7_BASIC else "?")
    return "".join(out)


def segments(text: str) -> int:
    """How many SMS segments `text` takes: GSM-7 160 characters alone, 153 each when split
    (extension characters count two); otherwise UCS-2, 70 alone, 67 each when split."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, multi = 160, 153
    else:
        units = len(text)
        single, multi = 70, 67
    if units <= single:
        return 1
    return -(-units // multi)


def template_name(kind: str) -> str:
    return f"sms/{kind}.txt"


def has_text(kind: str) -> bool:
    """Whether this kind of notice has an SMS version (`templates/sms/<kind>.txt`)."""
    try:
        current_app.jinja_env.get_template(template_name(kind))
    except TemplateNotFound:
        return False
    return True


def accepts_sms(user: User) -> bool:
    return bool(
        user.active
        and user.contact_sms
        and user.sms_stopped_at is None
        and mobile_e164(user.phone) is not None
    )


def render_text(kind: str, recipient: User, **context) -> str:
    template = current_app.jinja_env.get_template(template_name(kind))
    text = template.render(**context, recipient=recipient, link=absolute_url, request=None)
    text = " ".join(text.split())
    return to_gsm7(text + " STOP SMS : repondez STOP")


def queue_sms(
    kind: str, recipient: User, subject: str, people: set[int], **context
) -> OutboxSms | None:
    """Write an SMS to the outbox (sent after commit). A text over two segments is a bug of its
    template: it fails loudly here, in the tests of every kind."""
    phone = mobile_e164(recipient.phone)
    if phone is None:
        return None
    text = render_text(kind, recipient, **context)
    if segments(text) > MAX_SEGMENTS:
        raise ValueError(f"SMS {kind!r} trop long ({segments(text)} segments) : {text!r}")
    sms = OutboxSms(
        kind=kind,
        recipient=phone,
        subject=subject,
        body_text=text,
        body_html="",
        status=MessageStatus.PENDING,
        attempts=0,
        next_attempt_at=datetime.now(UTC),
    )
    sms.people = [OutboxSmsPerson(user_id=uid) for uid in sorted(people)]
    db.session.add(sms)
    return sms


class SmsError(Exception):
    """The provider refused the SMS or could not be reached; the text says why (for the admin)."""


class SpoolProvider:
    """Development: each SMS becomes a JSON file in a folder (nothing leaves the machine)."""

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def send(self, sms: OutboxSms) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        ref = f"spool-{sms.id}"
        path = self.folder / f"{sms.id:08d}.json"
        path.write_text(
            json.dumps({"recipient": sms.recipient, "content": sms.body_text}, ensure_ascii=False),
            encoding="utf-8",
        )
        return ref


class BrevoProvider:
    """Brevo's transactional SMS API: POST JSON to /v3/transactionalSMS/sms with an `api-key`
    header; 201 with a `messageId` when accepted, 4xx/5xx with `code` and `message` otherwise."""

    def __init__(self, url: str, api_key: str, sender: str, timeout: float):
        self.url, self.api_key, self.sender, self.timeout = url, api_key, sender, timeout

    def send(self, sms: OutboxSms) -> str:
        payload = {
            "sender": self.sender,
            "recipient": sms.recipient.lstrip("+"),
            "content": sms.body_text,
            "type": "transactional",
            "tag": sms.kind,
            "unicodeEnabled": False,
        }
        request = urllib.request.Request(
            self.url,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={
                "api-key": self.api_key,
                "content-type": "application/json",
                "accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            raise SmsError(f"HTTP {exc.code} : {detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"fournisseur injoignable : {exc}") from None
        ref = body.get("messageId") or body.get("reference")
        if not ref:
            raise SmsError(f"réponse sans identifiant : {body!r}"[:300])
        return str(ref)


def provider():
    config = current_app.config
    if config["SMS_PROVIDER"] == "brevo":
        return BrevoProvider(
            config["SMS_API_URL"],
            config["SMS_API_KEY"],
            config["SMS_SENDER"],
            float(config["SMS_TIMEOUT"]),
        )
    if config["SMS_PROVIDER"] == "spool":
        return SpoolProvider(config["SMS_SPOOL_DIR"])
    raise RuntimeError(f"SMS_PROVIDER inconnu : {config['SMS_PROVIDER']!r} (brevo ou spool)")


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, SmsError) else f"{type(exc).__name__}: {exc}"


def _connect():
    sender = provider()
    return lambda sms: {"provider_ref": sender.send(sms)}


# The SMS outbox: the routine all outboxes share (services/outbox.py), the provider as its sender.
SMS = outbox.Outbox(OutboxSms, connect=_connect, describe=_describe)


def send_pending(limit: int = 200, now: datetime | None = None) -> tuple[int, int]:
    """Send the due SMS once. Returns (sent, failed this pass)."""
    return SMS.send_pending(limit, now)


def record_stop(phone: str, now: datetime | None = None) -> int:
    """The person answered STOP: no SMS any more to the accounts with this mobile number, and
    those still waiting are cancelled. Returns how many accounts were concerned."""
    e164 = mobile_e164(phone if phone.startswith("+") else "+" + phone.lstrip("0"))
    if e164 is None:
        e164 = mobile_e164(phone)
    if e164 is None:
        return 0
    now = now or datetime.now(UTC)
    users = [
        u
        for u in db.session.scalars(select(User).where(User.phone.is_not(None)))
        if mobile_e164(u.phone) == e164
    ]
    for user in users:
        user.sms_stopped_at = now
    db.session.execute(
        update(OutboxSms)
        .where(OutboxSms.recipient == e164, OutboxSms.status == MessageStatus.PENDING)
        .values(status=MessageStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return len(users)


def retry_failed(sms: OutboxSms) -> None:
    outbox.retry_failed(sms)


STOP_WORDS = frozenset({"STOP", "STOP SMS", "ARRET", "ARRÊT", "STOPSMS"})
STOP_EVENTS = frozenset({"unsubscribe", "unsubscribed", "stop", "blacklisted"})


def handle_inbound(payload: dict) -> int:
    """A reply or an event the provider posts back (its webhook): a STOP answer, or the
    provider's own unsubscribe event, is recorded. Returns how many accounts it concerned."""
    phone = next(
        (
            str(payload[k])
            for k in ("from", "phone_number", "msisdn", "to", "recipient")
            if payload.get(k)
        ),
        "",
    )
    text = str(payload.get("reply") or payload.get("text") or payload.get("content") or "")
    event = str(payload.get("event") or "").lower()
    if not phone:
        raise DomainError("Numéro absent.")
    if text.strip().upper() in STOP_WORDS or event in STOP_EVENTS:
        return record_stop(phone)
    return 0
