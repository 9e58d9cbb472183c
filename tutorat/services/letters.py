"""Letters (courriers): every notice for a person reached by post becomes an A4 letter.

`queue_letter` writes the letter (its text is the notice's, rendered as for the person, so the same
disclosure applies) in the caller's transaction, for the person's référent to print. `render_pdf`
makes one PDF of one or many letters (WeasyPrint, one letter per sheet, the address where a window
envelope shows it); `mark_sent` records that the référent posted them.
"""

from __future__ import annotations

import base64
import mimetypes
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import Select, bindparam, or_, select, update
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from tutorat import vocab
from tutorat.extensions import db
from tutorat.links import absolute_url
from tutorat.models import (
    Letter,
    LetterPerson,
    MenteeProfile,
    MessageStatus,
    Pair,
    PairStatus,
    TutorProfile,
    User,
)
from tutorat.services import disclosure
from tutorat.services import goals as goals_service
from tutorat.services import meetings as meetings_service
from tutorat.services.contact import has_postal_address, postal_lines
from tutorat.services.db import changed_rows
from tutorat.services.errors import Conflict, DomainError

DEFAULT_LETTERHEAD = (
    Path(__file__).resolve().parent.parent / "static" / "letters" / "letterhead.png"
)
NO_REFERENT = "Aucun référent ne suit cette personne : personne ne peut imprimer ce courrier."


def reached_by_letter(user: User) -> bool:
    """Whether Tutorat writes to this person by post: they asked for paper, or cannot be reached
    by email (no address, or they do not accept emails)."""
    return bool(user.contact_letter or not (user.email and user.contact_email))


def check_address(recipient: User) -> None:
    """A letter is never prepared for a person without a complete postal address: it could not
    be posted. The message says what to do."""
    if not has_postal_address(recipient):
        raise DomainError(
            f"{recipient.full_name} n'a pas d'adresse postale complète (rue, code postal et "
            "commune) : aucun courrier n'est préparé. Complétez ses coordonnées, puis recommencez.",
            field="street_address",
        )


def written_to_by_post_without_address(commune_code) -> list:
    """The SQL of `reached_by_letter` and not `has_postal_address`, for an active account whose
    profile's commune is `commune_code`: no letter can be prepared for such a person."""
    return [
        User.active.is_(True),
        User.anonymised_at.is_(None),
        or_(User.contact_letter.is_(True), User.email.is_(None), User.contact_email.is_(False)),
        or_(
            User.street_address.is_(None),
            User.street_address == "",
            User.postal_code.is_(None),
            commune_code.is_(None),
        ),
    ]


def _missing_address(stmt: Select) -> Select:
    """`stmt` (on User) narrowed to the :referent_id's active beneficiaries Tutorat writes to by
    post who have no complete postal address; built once, the référent bound at each call."""
    return (
        stmt.join(MenteeProfile, MenteeProfile.user_id == User.id)
        .where(
            MenteeProfile.referent_id == bindparam("referent_id"),
            *written_to_by_post_without_address(MenteeProfile.commune_code),
        )
        .order_by(User.last_name, User.first_name, User.id)
    )


_MISSING = _missing_address(select(User))


def missing_addresses(referent_id: int) -> list[User]:
    """The référent's beneficiaries Tutorat writes to by post but who have no complete postal
    address: no letter can be prepared for them, so every notice misses them until the référent
    completes their address (or reaches them otherwise). Their « Adresse manquante » to-do."""
    return list(db.session.scalars(_MISSING, {"referent_id": referent_id}))


def tutors_without_address() -> list[User]:
    """Tutors Tutorat writes to by post (no email, or they turned emails off) but who have no
    complete postal address: no letter reaches them. No référent follows a tutor, so they are the
    administration's « Adresse manquante » to-do (its home page), until the tutor completes their
    address in « Mon compte » or accepts emails again (services/contact.py refuses that choice
    now; these are accounts from before, or made so by the administration)."""
    return list(
        db.session.scalars(
            select(User)
            .join(TutorProfile, TutorProfile.user_id == User.id)
            .where(*written_to_by_post_without_address(TutorProfile.commune_code))
            .order_by(User.last_name, User.first_name, User.id)
        )
    )


def new_reference(now: datetime) -> str:
    """Printed on the letter, short enough to be read over the phone: C-20261204-7F3A2B."""
    return f"C-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


def referent_for(recipient: User, context: dict) -> User | None:
    """Who prints the letter: the person's own référent, else the référent of the binôme named."""
    if recipient.mentee_profile is not None:
        return recipient.mentee_profile.referent
    for value in context.values():
        if isinstance(value, Pair):
            return value.referent
    return None


def queue_letter(
    kind: str, recipient: User, subject: str, text: str, people: set[int], context: dict
) -> Letter:
    """A letter in the référent's « Courriers à envoyer » list. Refused (DomainError, nothing
    written) when the person has no complete postal address. Without a référent it is written as
    failed, with the reason, so the admin sees it instead of a silent gap."""
    check_address(recipient)
    now = datetime.now(UTC)
    referent = referent_for(recipient, context)
    letter = Letter(
        kind=kind,
        reference=new_reference(now),
        recipient_id=recipient.id,
        referent_id=referent.id if referent is not None else None,
        recipient=recipient.full_name,
        subject=subject,
        body_text=text.strip(),
        body_html="",
        status=MessageStatus.PENDING if referent is not None else MessageStatus.FAILED,
        last_error="" if referent is not None else NO_REFERENT,
        created_at=now,
    )
    ids = set(people) | {recipient.id}
    if referent is not None:
        ids.add(referent.id)
    letter.people = [LetterPerson(user_id=uid) for uid in sorted(ids)]
    db.session.add(letter)
    return letter


def letterhead_data_uri() -> str:
    """The letterhead as a data: URI (LETTERHEAD_PATH, or the shipped one): nothing is fetched."""
    path = Path(current_app.config.get("LETTERHEAD_PATH") or DEFAULT_LETTERHEAD)
    mime = mimetypes.guess_type(path.name)[0] or "image/svg+xml"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _paragraphs(text: str) -> list[list[dict]]:
    """Paragraphs of lines; a line that is an address of a page is printed in full (paper has no
    links), in a typeface where l, 1 and I differ."""
    blocks = [b for b in text.replace("\r", "").split("\n\n") if b.strip()]
    return [
        [{"text": line, "url": line.strip().startswith("http")} for line in block.split("\n")]
        for block in blocks
    ]


def letter_pages(letters: Sequence[Letter]) -> list[dict]:
    pages = []
    for letter in letters:
        person = letter.recipient_user
        referent = letter.referent
        pages.append(
            {
                "letter": letter,
                "address": postal_lines(person),
                "has_address": has_postal_address(person),
                "paragraphs": _paragraphs(letter.body_text),
                "referent": referent,
            }
        )
    return pages


def render_html(letters: Sequence[Letter]) -> str:
    template = current_app.jinja_env.get_template("letters/letters.html")
    return template.render(
        pages=letter_pages(letters),
        letterhead=letterhead_data_uri(),
        site=absolute_url("main.index"),
        request=None,
    )


def html_to_pdf(html: str) -> bytes:
    """A PDF of `html`; everything it shows is in the HTML (the letterhead is a data: URI), so
    nothing is fetched from the network or the disk."""
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def render_pdf(letters: Sequence[Letter]) -> bytes:
    """One PDF, one letter per sheet (a letter never shares a sheet with the next)."""
    return html_to_pdf(render_html(letters))


class LetterRenderError(DomainError):
    """A letter could not be made into a PDF: recorded on the letters, shown to the admin."""


def render_pdf_or_record(letters: Sequence[Letter]) -> bytes:
    """`render_pdf`, and if it fails, the failure is written on each letter (committed at once,
    whatever the request does next: the admin sees it in « Courriels, SMS et courriers ») and
    the référent reads why, never a blank page or a silent gap."""
    try:
        return render_pdf(letters)
    except Exception as exc:
        db.session.rollback()
        error = f"PDF impossible : {type(exc).__name__}: {exc}"[:500]
        db.session.execute(
            update(Letter)
            .where(Letter.id.in_([letter.id for letter in letters]))
            .values(attempts=Letter.attempts + 1, last_error=error)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        raise LetterRenderError(
            "Le courrier n'a pas pu être préparé en PDF. L'administration en est informée ; "
            "réessayez plus tard."
        ) from exc


def printable(letter: Letter) -> None:
    """A letter that cannot be posted is refused with the reason and what to do."""
    if letter.redacted_at is not None or letter.status == MessageStatus.CANCELLED:
        raise Conflict(
            "Ce courrier est annulé : la personne a demandé l'effacement de ses données."
        )
    if not has_postal_address(letter.recipient_user):
        raise DomainError(
            f"{letter.recipient_user.full_name} n'a pas d'adresse postale complète : "
            "complétez ses coordonnées avant d'imprimer ce courrier."
        )


def pending_for(referent: User) -> list[Letter]:
    return list(
        db.session.scalars(
            select(Letter)
            .where(Letter.referent_id == referent.id, Letter.status == MessageStatus.PENDING)
            .order_by(Letter.created_at, Letter.id)
        )
    )


def mark_sent(letters: Sequence[Letter], actor: User) -> int:
    """The référent posted these letters. Only pending ones change (a conditional UPDATE: two
    clicks, or two référents, never count a letter twice). Returns how many changed."""
    for letter in letters:
        printable(letter)
    ids = [letter.id for letter in letters]
    if not ids:
        raise DomainError("Aucun courrier à marquer comme envoyé.")
    result = db.session.execute(
        update(Letter)
        .where(Letter.id.in_(ids), Letter.status == MessageStatus.PENDING)
        .values(status=MessageStatus.SENT, sent_at=datetime.now(UTC), sent_by_id=actor.id)
        .execution_options(synchronize_session="fetch")
    )
    changed = changed_rows(result)
    if changed == 0:
        raise Conflict("Ces courriers sont déjà marqués comme envoyés.")
    return changed


def history_of(user: User) -> list[Letter]:
    """Every letter to the person, newest first (the person's history on their page)."""
    return list(
        db.session.scalars(
            select(Letter)
            .where(Letter.recipient_id == user.id)
            .order_by(Letter.created_at.desc(), Letter.id.desc())
        )
    )


def pair_summary_pdf(pair: Pair, meetings: Sequence) -> bytes:
    """One page for a meeting with the person: her binôme as she may see it (disclosure, with her
    as the viewer: the tutor's first name, and contact once the binôme is active), her goals
    (those set for the binôme and where each stands, else the topics of her demande), the
    meetings so far, the next meeting when the tutor has planned it, and the next step."""
    view = disclosure.pair_view(pair, pair.mentee)
    template = current_app.jinja_env.get_template("letters/pair_summary.html")
    html = template.render(
        pair=pair,
        view=view,
        meetings=sorted(meetings, key=lambda m: (m.date, m.id)),
        referent=pair.referent,
        tutor_contact=pair.status == PairStatus.ACTIVE,
        next_meeting=meetings_service.next_meeting_of(pair),
        topics=vocab.labels(pair.request.topic_codes, vocab.TOPICS),
        goals=goals_service.goals_of(pair) if pair.is_started else [],
        modes=vocab.labels(pair.request.mode_codes, vocab.MEETING_MODES),
        letterhead=letterhead_data_uri(),
        printed_on=datetime.now(UTC),
        request=None,
    )
    return html_to_pdf(html)
