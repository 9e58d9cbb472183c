"""Tutor applications: apply (or be invited to), the département's checklist, validation or refusal.

An application's status changes only through `move` (a transition table, a conditional UPDATE and
an event), written as `services/workflow.py` does for demandes and binômes; every item of the
checklist recorded is an event too (`tutor_application_event`). Nobody has an account before
validation: the person's emails go to the address they typed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    ApplicationEvent,
    ApplicationSource,
    ApplicationStatus,
    ChecklistItem,
    Pair,
    Role,
    TutorApplication,
    TutorProfile,
    User,
)
from tutorat.models.applications import OPEN_APPLICATION_STATUSES
from tutorat.models.pairs import RUNNING_PAIR_STATUSES
from tutorat.services import accounts, charter, profiles, throttle
from tutorat.services.db import changed_rows
from tutorat.services.deactivation import deactivate_account
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.notifications import queue_email
from tutorat.services.workflow import check_event_time

_A = ApplicationStatus

APPLICATION_TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    # The person applies through the invitation, or the invitation is cancelled.
    _A.INVITED: frozenset({_A.TO_REVIEW, _A.WITHDRAWN}),
    _A.TO_REVIEW: frozenset({_A.VALIDATED, _A.REFUSED, _A.WITHDRAWN}),
    _A.VALIDATED: frozenset(),
    _A.REFUSED: frozenset(),
    _A.WITHDRAWN: frozenset(),
}

# Anti-spam, without third parties: a form sent faster than this was not typed by a person.
MIN_FILL_SECONDS = 3
# How long the signed start time of the form stays usable (a tab left open for days included),
# and an invitation link.
FORM_MAX_AGE = 7 * 24 * 3600
INVITATION_MAX_AGE = 90 * 24 * 3600


# ---- Status changes and events ----


def _event(
    application: TutorApplication,
    *,
    actor: User | None,
    at: datetime,
    from_status: ApplicationStatus | None = None,
    to_status: ApplicationStatus | None = None,
    item: ChecklistItem | None = None,
    note: str = "",
) -> ApplicationEvent:
    event = ApplicationEvent(
        application_id=application.id,
        actor_id=actor.id if actor else None,
        at=check_event_time(at),
        from_status=None if from_status is None else str(from_status),
        to_status=None if to_status is None else str(to_status),
        item=item,
        note=(note or "")[:2000],
    )
    db.session.add(event)
    return event


def move(
    application: TutorApplication,
    to: ApplicationStatus,
    *,
    actor: User | None,
    note: str = "",
    now: datetime | None = None,
) -> ApplicationEvent:
    """Move an application to `to` if the table allows it (conditional UPDATE), with its event."""
    current = ApplicationStatus(application.status)
    if to not in APPLICATION_TRANSITIONS[current]:
        raise Conflict(
            f"Cette candidature est « {current.label} » : cette action n'est plus possible. "
            "Rechargez la page."
        )
    now = check_event_time(now or datetime.now(UTC))
    result = db.session.execute(
        update(TutorApplication)
        .where(TutorApplication.id == application.id, TutorApplication.status == current)
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed_rows(result) != 1:
        raise Conflict(
            "Quelqu'un vient de modifier cette candidature : rechargez la page pour la voir à jour."
        )
    set_committed_value(application, "status", to)
    set_committed_value(application, "updated_at", now)
    return _event(application, actor=actor, at=now, from_status=current, to_status=to, note=note)


def _created(
    application: TutorApplication, *, actor: User | None, now: datetime, note: str = ""
) -> None:
    db.session.add(application)
    db.session.flush()
    _event(application, actor=actor, at=now, to_status=application.status, note=note)


# ---- Anti-spam: a signed start time, a honeypot ----


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def form_started_token(now: float | None = None) -> str:
    """A signed token carrying when the form was shown (a hidden field of the public form)."""
    return _serializer("candidature-debut").dumps({"t": now if now is not None else time.time()})


def looks_like_a_bot(honeypot: str | None, started: str | None, now: float | None = None) -> bool:
    """A bot fills the field people cannot see, or sends the form in under `MIN_FILL_SECONDS`.

    The token is signed: a bot cannot make the form look older than it is. A missing, forged or
    week-old token counts as a bot too; the person then sees the usual thanks, and nothing is kept.
    """
    if (honeypot or "").strip():
        return True
    try:
        data = _serializer("candidature-debut").loads(started or "", max_age=FORM_MAX_AGE)
        started_at = float(data["t"])
    except (BadSignature, SignatureExpired, KeyError, TypeError, ValueError):
        return True
    elapsed = (now if now is not None else time.time()) - started_at
    return not elapsed >= MIN_FILL_SECONDS


# ---- Invitations (a référent suggests someone; a former mentee said yes) ----


def invitation_token(application: TutorApplication) -> str:
    return _serializer("candidature-invitation").dumps({"a": application.id})


def invited_application(token: str | None) -> TutorApplication | None:
    """The invitation a link was made for, if it still waits for an answer; None otherwise."""
    if not token:
        return None
    try:
        data = _serializer("candidature-invitation").loads(token, max_age=INVITATION_MAX_AGE)
        application_id = int(data["a"])
    except (BadSignature, SignatureExpired, KeyError, TypeError, ValueError):
        return None
    application = db.session.get(TutorApplication, application_id)
    if application is None or application.status != ApplicationStatus.INVITED:
        return None
    return application


WITHDRAWAL_MAX_AGE = 365 * 24 * 3600


def withdrawal_token(application: TutorApplication) -> str:
    """The link of the acknowledgement email with which the person withdraws their application."""
    return _serializer("candidature-retrait").dumps({"a": application.id})


def application_from_withdrawal(token: str | None) -> TutorApplication | None:
    """The application a withdrawal link was made for (any status: the page says where it is)."""
    if not token:
        return None
    try:
        data = _serializer("candidature-retrait").loads(token, max_age=WITHDRAWAL_MAX_AGE)
        application_id = int(data["a"])
    except (BadSignature, SignatureExpired, KeyError, TypeError, ValueError):
        return None
    return db.session.get(TutorApplication, application_id)


def withdraw_by_applicant(
    application: TutorApplication, *, now: datetime | None = None
) -> ApplicationEvent:
    """The person withdraws their application still « à examiner » (a `Conflict` otherwise).
    What they typed is deleted by `flask purge` after APPLICATION_RETENTION_DAYS."""
    now = now or datetime.now(UTC)
    application.decided_at = now
    return move(
        application,
        ApplicationStatus.WITHDRAWN,
        actor=None,
        note="Retirée par la personne (lien du courriel de confirmation)",
        now=now,
    )


def purge_decided(now: datetime | None = None) -> int:
    """Delete refused and withdrawn applications decided more than APPLICATION_RETENTION_DAYS ago
    (their events go with them). Validated ones stay: they are the tutor's file. Returns how many."""
    now = now or datetime.now(UTC)
    limit = now - timedelta(days=current_app.config["APPLICATION_RETENTION_DAYS"])
    ids = db.session.scalars(
        select(TutorApplication.id).where(
            TutorApplication.status.in_((ApplicationStatus.REFUSED, ApplicationStatus.WITHDRAWN)),
            func.coalesce(TutorApplication.decided_at, TutorApplication.updated_at) < limit,
        )
    ).all()
    if not ids:
        return 0
    db.session.execute(
        delete(ApplicationEvent)
        .where(ApplicationEvent.application_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    result = db.session.execute(
        delete(TutorApplication)
        .where(TutorApplication.id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return changed_rows(result)


def _recipient(application: TutorApplication) -> User:
    """Someone without an account yet, as the outbox addresses people (never added to the session)."""
    return User(
        email=application.email,
        first_name=application.first_name,
        last_name=application.last_name,
        role=Role.TUTOR,
        active=True,
        contact_email=True,
        contact_sms=False,
        contact_letter=False,
    )


def _normalise_phone(phone: str | None) -> str:
    return "".join(c for c in phone or "" if c.isdigit())[-9:]


def _already_known(
    email: str,
    phone: str | None,
    *,
    except_id: int | None = None,
    former_mentee: User | None = None,
) -> bool:
    """An account has this address, or an application in progress has this address or phone.

    A former mentee invited to apply (services/loop.py) may use her own account's address."""
    own = former_mentee is not None and (former_mentee.email or "").lower() == email
    if accounts.email_taken(email) and not own:
        return True
    same = TutorApplication.email == email
    if phone:
        same = or_(same, TutorApplication.phone.is_not(None))
    rows = db.session.execute(
        select(TutorApplication.id, TutorApplication.email, TutorApplication.phone).where(
            TutorApplication.status.in_(OPEN_APPLICATION_STATUSES), same
        )
    ).all()
    wanted_phone = _normalise_phone(phone)
    return any(
        row.id != except_id
        and (
            row.email == email or bool(wanted_phone and _normalise_phone(row.phone) == wanted_phone)
        )
        for row in rows
    )


def suggest(
    *,
    referent: User,
    first_name: str,
    last_name: str,
    email: str,
    phone: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> TutorApplication | None:
    """A référent invites someone they know to apply; recorded with who suggested them.

    None (and nothing written) when the person already has an account or an application in
    progress: the référent is told so in neutral words.
    """
    if referent.role != Role.REFERENT:
        raise DomainError("Seul un référent peut proposer à quelqu'un de devenir tuteur.")
    email = throttle.normalise_email(email)
    if not email:
        raise DomainError("Indiquez l'adresse électronique de la personne.", field="email")
    if _already_known(email, phone):
        return None
    now = now or datetime.now(UTC)
    application = TutorApplication(
        status=ApplicationStatus.INVITED,
        source=ApplicationSource.REFERENT,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email,
        phone=(phone or "").strip() or None,
        suggested_by_id=referent.id,
        suggestion_note=note.strip(),
        created_at=now,
        updated_at=now,
    )
    _created(application, actor=referent, now=now, note="Invitation à candidater")
    queue_email(
        "application_invitation",
        _recipient(application),
        token=invitation_token(application),
        referent=referent,
        note=application.suggestion_note,
        days=INVITATION_MAX_AGE // 86400,
    )
    return application


# ---- Applying ----


@dataclass(frozen=True)
class ApplicationValues:
    """What the public form collects, validated by the form (the service checks the rules again)."""

    first_name: str
    last_name: str
    email: str
    phone: str | None
    commune_code: str
    metier_code: str
    availability: int
    capacity: int
    has_car: bool
    max_km: int
    remote_ok: bool
    obstacles: list[str]
    experience_note: str
    charter_accepted: bool
    consent: bool
    metier_title: str = ""


def apply(
    values: ApplicationValues,
    *,
    invitation: TutorApplication | None = None,
    former_mentee: User | None = None,
    now: datetime | None = None,
) -> TutorApplication | None:
    """Record an application « à examiner » and email its acknowledgement.

    None, with nothing written, when the address or phone is already known (an account, an
    application in progress): the page answers the same thanks either way, so that nobody learns
    from it who applied. An invitation waiting for this address is answered by this application.
    """
    if not values.consent:
        raise DomainError(
            "Cochez la case pour accepter l'utilisation de vos données.", field="consent"
        )
    if not values.charter_accepted:
        raise DomainError("Lisez la charte, puis cochez la case pour l'accepter.", field="charter")
    if not 1 <= values.capacity <= 3:
        raise DomainError("Vous pouvez suivre de 1 à 3 personnes.", field="capacity")
    if not 0 < values.availability < (1 << 21):
        raise DomainError("Cochez au moins un moment où vous êtes disponible.", field="slots")
    if not 0 <= values.max_km <= 200:
        raise DomainError("Indiquez une distance entre 0 et 200 km.", field="max_km")
    if any(o not in vocab.OBSTACLES for o in values.obstacles):
        raise DomainError("Difficulté inconnue : choisissez dans la liste.", field="obstacles")
    email = throttle.normalise_email(values.email)
    if not email:
        raise DomainError("Indiquez votre adresse électronique.", field="email")
    if invitation is None:
        invitation = db.session.scalars(
            select(TutorApplication).where(
                TutorApplication.email == email,
                TutorApplication.status == ApplicationStatus.INVITED,
            )
        ).first()
    if _already_known(
        email,
        values.phone,
        except_id=invitation.id if invitation else None,
        former_mentee=former_mentee,
    ):
        return None
    now = now or datetime.now(UTC)
    application = invitation or TutorApplication(
        status=ApplicationStatus.TO_REVIEW, source=ApplicationSource.PUBLIC, created_at=now
    )
    if former_mentee is not None and invitation is None:
        # The loop: she said yes at the end of her binôme, and answers the invitation.
        application.source = ApplicationSource.FORMER_MENTEE
        application.former_mentee_id = former_mentee.id
    application.first_name = values.first_name.strip()
    application.last_name = values.last_name.strip()
    application.email = email
    application.phone = (values.phone or "").strip() or None
    application.commune_code = values.commune_code
    application.metier_code = values.metier_code
    application.metier_title = " ".join(values.metier_title.split())[:300]
    application.availability = values.availability
    application.capacity = values.capacity
    application.has_car = values.has_car
    application.max_km = values.max_km
    application.remote_ok = values.remote_ok
    application.obstacles = ",".join(dict.fromkeys(values.obstacles))
    application.experience_note = values.experience_note.strip()
    application.consent_at = now
    application.charter_version = charter.CURRENT_VERSION
    application.charter_accepted_at = now
    application.submitted_at = now
    if invitation is None:
        application.updated_at = now
        _created(
            application,
            actor=None,
            now=now,
            note="Candidature en ligne"
            + (
                " d'une ancienne bénéficiaire ou d'un ancien bénéficiaire, invité après son binôme"
                if application.former_mentee_id
                else ""
            ),
        )
    else:
        db.session.flush()
        move(application, ApplicationStatus.TO_REVIEW, actor=None, note="Candidature en ligne")
    _event(
        application,
        actor=None,
        at=now,
        item=ChecklistItem.CHARTER,
        note=f"Charte version {charter.CURRENT_VERSION} acceptée en ligne",
    )
    queue_email(
        "application_received",
        _recipient(application),
        withdraw_token=withdrawal_token(application),
    )
    return application


def open_for_account(tutor: User, *, actor: User, now: datetime | None = None) -> TutorApplication:
    """A tutor account the administration created: the same checklist before validation."""
    now = now or datetime.now(UTC)
    application = TutorApplication(
        status=ApplicationStatus.TO_REVIEW,
        source=ApplicationSource.ADMIN,
        first_name=tutor.first_name,
        last_name=tutor.last_name,
        email=tutor.email or "",
        phone=tutor.phone,
        tutor_id=tutor.id,
        created_at=now,
        submitted_at=now,
        updated_at=now,
    )
    _created(application, actor=actor, now=now, note="Compte de tuteur créé par l'administration")
    return application


def create_tutor_account(
    *,
    email: str | None,
    first_name: str,
    last_name: str,
    inviter: User,
    phone: str | None = None,
) -> User:
    """The administration creates a tutor account (the person is emailed a link to choose a
    password); it is validated only once the checklist is complete, as an application is."""
    tutor = accounts.invite(
        role=Role.TUTOR,
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        inviter=inviter,
    )
    open_for_account(tutor, actor=inviter)
    return tutor


def open_application_of(tutor: User) -> TutorApplication | None:
    """The application « à examiner » of a tutor account, if any."""
    return db.session.scalars(
        select(TutorApplication).where(
            TutorApplication.tutor_id == tutor.id,
            TutorApplication.status == ApplicationStatus.TO_REVIEW,
        )
    ).first()


# ---- The checklist ----


def missing_items(application: TutorApplication) -> list[ChecklistItem]:
    """What is still to check before validation, in the checklist's order."""
    done = {
        ChecklistItem.IDENTITY: application.identity_checked_on is not None,
        ChecklistItem.CHARTER: charter.is_current(application.charter_version),
        ChecklistItem.CRIMINAL_RECORD: application.criminal_record_seen_on is not None,
        ChecklistItem.INFO_MEETING: application.info_meeting_on is not None,
    }
    return [item for item in ChecklistItem if not done[item]]


def _check_day(day: date | None, field: str, *, today: date) -> date:
    if day is None:
        raise DomainError("Indiquez la date.", field=field)
    if day > today:
        raise DomainError("Cette date ne peut pas être dans le futur.", field=field)
    if day < today - timedelta(days=2 * 365):
        raise DomainError("Cette date a plus de deux ans : vérifiez-la.", field=field)
    return day


def record_check(
    application: TutorApplication,
    item: ChecklistItem,
    day: date | None,
    *,
    actor: User,
    now: datetime | None = None,
) -> None:
    """The administration records one item of the checklist (a date; never a document)."""
    if actor.role != Role.ADMIN:
        raise DomainError("Seule l'administration vérifie les candidatures.")
    if application.status != ApplicationStatus.TO_REVIEW:
        raise Conflict(
            f"Cette candidature est « {ApplicationStatus(application.status).label} » : "
            "la liste de vérification ne peut plus changer."
        )
    now = now or datetime.now(UTC)
    if item == ChecklistItem.CHARTER:
        raise DomainError("La charte est acceptée par la personne elle-même, en ligne.")
    day = _check_day(day, item.value, today=now.date())
    if item == ChecklistItem.IDENTITY:
        application.identity_checked_on, application.identity_checked_by_id = day, actor.id
        note = f"Pièce d'identité vue le {day:%d/%m/%Y}"
    elif item == ChecklistItem.CRIMINAL_RECORD:
        application.criminal_record_seen_on = day
        application.criminal_record_seen_by_id = actor.id
        note = f"Bulletin n° 3 du casier judiciaire vu le {day:%d/%m/%Y} (aucune copie gardée)"
    else:
        application.info_meeting_on = day
        note = f"Réunion d'information suivie le {day:%d/%m/%Y}"
    application.updated_at = now
    _event(application, actor=actor, at=now, item=item, note=note)


def accept_charter(tutor: User, *, now: datetime | None = None) -> None:
    """A tutor accepts the charter in force, from their account (and for their open application)."""
    profile = tutor.tutor_profile
    if profile is None:
        raise DomainError("Seul un tuteur accepte la charte des tuteurs.")
    now = now or datetime.now(UTC)
    profile.charter_version = charter.CURRENT_VERSION
    profile.charter_accepted_at = now
    application = open_application_of(tutor)
    if application is not None:
        application.charter_version = charter.CURRENT_VERSION
        application.charter_accepted_at = now
        _event(
            application,
            actor=tutor,
            at=now,
            item=ChecklistItem.CHARTER,
            note=f"Charte version {charter.CURRENT_VERSION} acceptée en ligne",
        )


# ---- Decisions ----


def _close_former_mentee_account(application: TutorApplication, *, actor: User) -> None:
    """A former mentee who applied with her own account's address: her new tutor account takes
    the address, and her beneficiary account is closed (deactivated, without email; her past
    binômes stay in it until the retention delay). Refused while she is still in a binôme."""
    if application.former_mentee_id is None:
        return
    mentee = db.session.get(User, application.former_mentee_id)
    if mentee is None or (mentee.email or "").lower() != application.email.lower():
        return
    live = db.session.scalar(
        select(func.count())
        .select_from(Pair)
        .where(Pair.mentee_id == mentee.id, Pair.status.in_(RUNNING_PAIR_STATUSES))
    )
    if live:
        raise Conflict(
            "Cette personne est encore accompagnée dans un binôme en cours : validez sa "
            "candidature une fois ce binôme terminé."
        )
    deactivate_account(
        mentee,
        actor,
        "Devenue tutrice ou devenu tuteur : son compte de tuteur remplace ce compte",
        notify=False,
    )
    mentee.email = None
    db.session.flush()


def validate(application: TutorApplication, *, actor: User, now: datetime | None = None) -> User:
    """Validate a complete application: the tutor account exists (created now if needed) and may be
    proposed. A `Conflict` naming what is missing otherwise."""
    if actor.role != Role.ADMIN:
        raise DomainError("Seule l'administration valide les tuteurs.")
    if application.status != ApplicationStatus.TO_REVIEW:
        raise Conflict(
            f"Cette candidature est « {ApplicationStatus(application.status).label} » : "
            "elle ne peut plus être validée."
        )
    missing = missing_items(application)
    if missing:
        raise Conflict(
            "Validation impossible : il manque " + ", ".join(i.label for i in missing) + "."
        )
    now = now or datetime.now(UTC)
    if application.tutor_id is None:
        _close_former_mentee_account(application, actor=actor)
        if accounts.email_taken(application.email):
            raise Conflict(
                "Un compte existe déjà avec cette adresse électronique : refusez la candidature "
                "en double, ou changez l'adresse du compte existant."
            )
        tutor = accounts.create_user(
            role=Role.TUTOR,
            email=application.email,
            first_name=application.first_name,
            last_name=application.last_name,
            phone=application.phone,
            created_by=actor,
            capacity=application.capacity,
        )
        profile = db.session.get_one(TutorProfile, tutor.id)
        if application.commune_code and application.metier_code and application.availability:
            profiles.update_tutor_profile(
                profile,
                commune_code=application.commune_code,
                metier_code=application.metier_code,
                availability=application.availability,
                has_car=application.has_car,
                max_km=application.max_km,
                remote_ok=application.remote_ok,
                obstacles=application.obstacle_codes,
                capacity=application.capacity,
                experience_note=application.experience_note,
                metier_title=application.metier_title,
            )
        accounts.record_consent(tutor, by=tutor, at=application.consent_at or now)
        application.tutor_id = tutor.id
        token: str | None = accounts.password_token(tutor)
    else:
        tutor = db.session.get_one(User, application.tutor_id)
        profile = db.session.get_one(TutorProfile, tutor.id)
        token = None
    profile.charter_version = application.charter_version
    profile.charter_accepted_at = application.charter_accepted_at
    profiles.validate_tutor(profile, now=now)
    application.decided_at, application.decided_by_id = now, actor.id
    db.session.flush()
    move(application, ApplicationStatus.VALIDATED, actor=actor, now=now)
    queue_email("application_validated", tutor, token=token)
    return tutor


def refuse(
    application: TutorApplication, reason: str, *, actor: User, now: datetime | None = None
) -> None:
    """Refuse with a reason, emailed to the person (an account made by the administration is closed)."""
    if actor.role != Role.ADMIN:
        raise DomainError("Seule l'administration décide des candidatures.")
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise DomainError(
            "Expliquez le refus en une phrase au moins : elle sera envoyée à la personne.",
            field="reason",
        )
    now = now or datetime.now(UTC)
    application.refusal_reason = reason[:2000]
    application.decided_at, application.decided_by_id = now, actor.id
    db.session.flush()
    move(application, ApplicationStatus.REFUSED, actor=actor, note=reason, now=now)
    tutor = db.session.get(User, application.tutor_id) if application.tutor_id else None
    queue_email("application_refused", tutor or _recipient(application), reason=reason)
    if tutor is not None and tutor.active:
        tutor.active = False
        accounts.end_all_sessions(tutor)


# ---- The administration's list ----


def open_count() -> int:
    """How many applications wait « à examiner » (the administration's home says it)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(TutorApplication)
            .where(TutorApplication.status == ApplicationStatus.TO_REVIEW)
        )
        or 0
    )


__all__ = [
    "APPLICATION_TRANSITIONS",
    "ApplicationValues",
    "accept_charter",
    "apply",
    "invitation_token",
    "invited_application",
    "looks_like_a_bot",
    "missing_items",
    "move",
    "open_for_account",
    "record_check",
    "refuse",
    "suggest",
    "validate",
]
