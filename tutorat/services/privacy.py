"""Personal data (RGPD): a person's own data, erasure, anonymisation, retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    AccessLog,
    BeneficiaryImport,
    CheckIn,
    Commune,
    EventEntity,
    Goal,
    Letter,
    Meeting,
    MeetingChange,
    NextMeeting,
    OutboxEmail,
    OutboxSms,
    Pair,
    PairReport,
    ReferentChange,
    Role,
    StatusEvent,
    TutoringRequest,
    User,
    letter_person,
    outbox_email_person,
    outbox_sms_person,
)
from tutorat.models.access import ACCESS_ACTION_LABELS, AccessAction
from tutorat.models.outbox import FINISHED_STATUSES, UNSENT_STATUSES, MessageStatus
from tutorat.models.pairs import LIVE_PAIR_STATUSES, PairAnswer, PairStatus
from tutorat.models.requests import TUTORING_REQUEST_STATUS_LABELS, TutoringRequestStatus
from tutorat.services import audit, disclosure, emails, vetting
from tutorat.services.db import changed_rows
from tutorat.services.deactivation import deactivate_account
from tutorat.services.disclosure import Audience

ANONYMOUS_FIRST = "Personne"
# A commune smaller than this would single a person out once the rest is anonymous (INSEE's
# rule of thumb for publishing municipal figures); the canton is kept instead.
COARSE_MIN_POPULATION = 2000
REDACTED_SUBJECT = "[message effacé]"
REDACTED_BODY = (
    "Ce message a été effacé : il concernait une personne dont les données ont été anonymisées."
)
REDACTED_RECIPIENT = "efface@anonyme.invalid"
# Each outbox of messages to people and the table linking its rows to the people they name.
# Emails, SMS and letters (same status, recipient, subject, body and redacted_at columns): an
# erasure cancels and redacts them all.
MESSAGE_OUTBOXES = (
    (OutboxEmail, outbox_email_person, "email_id"),
    (OutboxSms, outbox_sms_person, "sms_id"),
    (Letter, letter_person, "letter_id"),
)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


# Left out of the export on purpose, and why (also on the privacy page).
LEFT_OUT = {
    "note_du_referent": (
        "La note de suivi de votre référent n'est pas dans cet export : c'est un document de travail du "
        "service. Vous pouvez en demander la communication au service insertion du Département, qui vous la "
        "transmettra après avoir retiré ce qui concerne d'autres personnes."
    ),
    "adresses_ip_des_agents": (
        "Pour chaque consultation de votre dossier, nous indiquons qui l'a consulté et quand, mais pas "
        "l'adresse IP de son ordinateur (une donnée sur cet agent, pas sur vous)."
    ),
}
LEFT_OUT_TUTOR = (
    "Ce que la personne accompagnée n'a pas choisi de partager avec vous (par exemple sa commune ou ses "
    "difficultés) n'est pas dans cet export, ni le score total d'une proposition quand une de ses parties "
    "vous est cachée (le total moins les parties visibles donnerait la partie cachée), ni le lieu de "
    "rencontre suggéré quand il découle de sa commune. Ses raisons de refus et les résultats de son "
    "parcours n'y sont pas non plus."
)


def _person(user: User | None, me: User) -> str:
    if user is None:
        return "Tutorat (opération automatique)"
    if user.id == me.id:
        return "vous-même"
    if user.role == Role.TUTOR and me.role == Role.MENTEE:
        return (
            f"{user.first_name} (tuteur)"  # as on the mentee's pages: the tutor's first name only
        )
    return f"{user.full_name} ({user.role_label.lower()})"


def _status_label(entity: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return (
            PairStatus(value).label
            if entity == EventEntity.PAIR
            else TUTORING_REQUEST_STATUS_LABELS[TutoringRequestStatus(value)]
        )
    except (ValueError, KeyError):
        return value


def _events(entity: str, ids: list[int]) -> dict[int, list[StatusEvent]]:
    out: dict[int, list[StatusEvent]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = db.session.scalars(
        select(StatusEvent)
        .where(StatusEvent.entity == entity, StatusEvent.entity_id.in_(ids))
        .order_by(StatusEvent.at, StatusEvent.id)
    )
    for event in rows:
        out[event.entity_id].append(event)
    return out


def _history(events: list[StatusEvent], entity: str, name, text) -> list[dict[str, Any]]:
    """Who acted, when, from which status to which, and why (through `name` and `text` filters)."""
    return [
        {
            "le": _iso(e.at),
            "par": name(e.actor),
            **({"pour": name(e.on_behalf_of)} if e.on_behalf_of_id else {}),
            "de": _status_label(entity, e.from_status),
            "vers": _status_label(entity, e.to_status),
            "motif": text(e.reason or "", e.actor_id),
        }
        for e in events
    ]


def _pair_data(pair: Pair, user: User, events: list[StatusEvent], meetings) -> dict[str, Any]:
    """One binôme as `user` may see it: everything goes through `disclosure.pair_view`."""
    view = disclosure.pair_view(pair, user)

    def name(actor: User | None) -> str:
        return "vous-même" if actor is not None and actor.id == user.id else view.person(actor)

    data: dict[str, Any] = {
        "numero": pair.id,
        # Her own export says « vous » (« Accepté par le tuteur, en attente de votre réponse »).
        "statut": pair.status_label_for_mentee if user.id == pair.mentee_id else pair.status_label,
        "propose_le": _iso(pair.proposed_at),
        "confirme_le": _iso(pair.confirmed_at),
        "termine_le": _iso(pair.ended_at),
        "score": view.score if view.show_total else "non communiqué",
        "parts_du_score": {
            p.label: (
                {"note": p.value, "poids": p.weight, "part": p.contribution}
                if not p.hidden
                else {"note": "non communiquée", "poids": p.weight, "part": "non communiquée"}
            )
            for p in view.parts
        },
        "raisons": list(view.reasons),
        "poids": pair.weights,
        "lieu_de_rencontre_suggere": view.meeting_place,
    }
    if view.audience == Audience.TUTOR:
        data["ce_que_la_personne_a_partage"] = view.mentee_fields
    tutor_declined = pair.tutor_answer == PairAnswer.DECLINED
    if pair.decline_reason and (view.details_shown or tutor_declined):
        data["refus"] = {
            "par": "le tuteur"
            if tutor_declined
            else ("vous-même" if user.id == pair.mentee_id else "la personne accompagnée"),
            "raison": vocab.END_REASONS.get(pair.decline_reason, pair.decline_reason),
            "precision": pair.decline_detail or None,
        }
    if (
        pair.end_reason
        and pair.end_reason != pair.decline_reason
        and (view.details_shown or pair.end_reason == vocab.EXPIRY_REASON[0])
    ):
        data["fin"] = vocab.END_REASONS.get(pair.end_reason, pair.end_reason)
    outcomes = pair.outcomes
    data["resultat"] = ", ".join(vocab.labels(outcomes, vocab.OUTCOMES)) or None
    if view.details_shown and outcomes:
        data["resultat_details"] = {
            "contrat": vocab.CONTRACT_TYPES.get(pair.outcome_contract or "", None),
            "droits_ouverts": vocab.labels(
                [r for r in (pair.outcome_rights or "").split(",") if r], vocab.RIGHTS
            ),
            "precision": pair.outcome_detail or None,
        }
        if pair.stop_reason:
            data["resultat_details"]["raison_de_l_arret"] = vocab.STOP_REASONS.get(
                pair.stop_reason, pair.stop_reason
            )
    if user.id == pair.mentee_id and pair.mentee_would_help is not None:
        # Her own answer to « aider à votre tour plus tard ? » (services/loop.py).
        data["devenir_tuteur_plus_tard"] = {
            "reponse": "oui" if pair.mentee_would_help else "non",
            "le": _iso(pair.mentee_would_help_at),
            "invitation_envoyee_le": _iso(pair.help_invited_at),
        }
    data["historique"] = _history(events, EventEntity.PAIR, name, view.event_reason)
    data["rencontres"] = [
        {
            "date": _iso(m.date),
            "duree_minutes": m.duration_minutes,
            "mode": m.mode_label,
            "lieu": m.place,
            "note": m.note,
        }
        for m in meetings
    ]
    return data


def my_data(user: User) -> dict[str, Any]:
    """Everything Tutorat holds about `user` (RGPD art. 15), and what is left out on purpose, and why.

    What a person sees of a binôme goes through `disclosure.pair_view`: a tutor's export holds no
    more of the mentee than the tutor's pages do.
    """
    data: dict[str, Any] = {
        "compte": {
            "prenom": user.first_name,
            "nom": user.last_name,
            "adresse_electronique": user.email,
            "telephone": user.phone,
            "adresse_postale": user.street_address,
            "code_postal": user.postal_code,
            "contact_par_courriel": user.contact_email,
            "contact_par_sms": user.contact_sms,
            "contact_par_courrier": user.contact_letter,
            "sms_arretes_le": _iso(user.sms_stopped_at),
            "type_de_compte": user.role_label,
            "structure": user.organisation,
            "cree_le": _iso(user.created_at),
            "derniere_connexion": _iso(user.last_login_at),
            "consentement_le": _iso(user.consent_at),
            "consentement_enregistre_par": (
                _person(db.session.get(User, user.consent_by_id), user)
                if user.consent_by_id
                else None
            ),
            "courriels": {p.export_key: getattr(user, p.field) for p in emails.PREFERENCES},
        }
    }
    if user.role == Role.MENTEE and user.mentee_profile is not None:
        mentee_profile = user.mentee_profile
        data["profil"] = {
            "commune": mentee_profile.commune.nom if mentee_profile.commune else None,
            "date_de_naissance": _iso(mentee_profile.birth_date),
            "numero_allocataire": mentee_profile.caf_number,
            "metiers_vises": mentee_profile.metier_codes,
            "intitules_choisis": mentee_profile.metier_titles,
            "disponibilites": vocab.slots_labels(mentee_profile.availability),
            "voiture": mentee_profile.has_car,
            "distance_max_km": mentee_profile.max_km,
            "rencontres_a_distance": mentee_profile.remote_ok,
            "difficultes": vocab.labels(mentee_profile.obstacle_codes, vocab.OBSTACLES),
            "partage_avec_le_tuteur": {
                f: getattr(mentee_profile, f"share_{f}")
                for f in ("first_name", "commune", "phone", "email", "metier", "obstacles")
            },
            "referent": mentee_profile.referent.full_name if mentee_profile.referent else None,
        }
        requests = db.session.scalars(
            select(TutoringRequest)
            .where(TutoringRequest.mentee_id == user.id)
            .order_by(TutoringRequest.id)
        ).all()
        request_events = _events(EventEntity.REQUEST, [r.id for r in requests])
        data["demandes"] = [
            {
                "numero": r.id,
                "statut": r.status_label,
                "creee_le": _iso(r.created_at),
                "sujets": vocab.labels(r.topic_codes, vocab.TOPICS),
                "message": r.message,
                "contraintes": r.constraints,
                "historique": _history(
                    request_events[r.id],
                    EventEntity.REQUEST,
                    lambda a: _person(a, user),
                    lambda reason, _actor: reason,
                ),
            }
            for r in requests
        ]
    if user.role == Role.TUTOR and user.tutor_profile is not None:
        tutor_profile = user.tutor_profile
        data["profil"] = {
            "commune": tutor_profile.commune.nom if tutor_profile.commune else None,
            "metier": tutor_profile.metier_code,
            "intitule_choisi": tutor_profile.metier_title,
            "disponibilites": vocab.slots_labels(tutor_profile.availability),
            "voiture": tutor_profile.has_car,
            "distance_max_km": tutor_profile.max_km,
            "rencontres_a_distance": tutor_profile.remote_ok,
            "difficultes_surmontees": vocab.labels(tutor_profile.obstacle_codes, vocab.OBSTACLES),
            "capacite": tutor_profile.capacity,
            "experience": tutor_profile.experience_note,
        }
    pairs = db.session.scalars(
        select(Pair)
        .where(or_(Pair.mentee_id == user.id, Pair.tutor_id == user.id))
        .order_by(Pair.id)
        .options(selectinload(Pair.outcome_rows))
    ).all()
    if pairs:
        meetings = db.session.scalars(
            select(Meeting).where(Meeting.pair_id.in_([p.id for p in pairs])).order_by(Meeting.date)
        ).all()
        pair_events = _events(EventEntity.PAIR, [p.id for p in pairs])
        data["binomes"] = [
            _pair_data(p, user, pair_events[p.id], [m for m in meetings if m.pair_id == p.id])
            for p in pairs
        ]
        pair_ids = [p.id for p in pairs]
        # Their own words only: a report or an answer by the other person is not theirs to read.
        data["vos_signalements_au_referent"] = [
            {
                "binome": r.pair_id,
                "le": _iso(r.created_at),
                "type": r.kind.label,
                "raison": r.reason_label if r.reason else None,
                "commentaire": r.comment,
                "traite_le": _iso(r.handled_at),
            }
            for r in db.session.scalars(
                select(PairReport)
                .where(PairReport.pair_id.in_(pair_ids), PairReport.author_id == user.id)
                .order_by(PairReport.created_at, PairReport.id)
            )
        ]
        data["vos_reponses_comment_se_passe_le_tutorat"] = [
            {
                "binome": c.pair_id,
                "demande_le": _iso(c.asked_at),
                "reponse": c.answer_label if c.answer else None,
                "commentaire": c.comment,
                "repondu_le": _iso(c.answered_at),
            }
            for c in db.session.scalars(
                select(CheckIn)
                .where(CheckIn.pair_id.in_(pair_ids), CheckIn.person_id == user.id)
                .order_by(CheckIn.asked_at, CheckIn.id)
            )
        ]
        data["objectifs"] = [
            {"binome": g.pair_id, "objectif": g.text, "etat": g.status_label}
            for g in db.session.scalars(
                select(Goal).where(Goal.pair_id.in_(pair_ids)).order_by(Goal.id)
            )
        ]
        data["prochaines_rencontres"] = [
            {
                "binome": n.pair_id,
                "le": _iso(n.day),
                "heure": n.time_label or None,
                "lieu": n.place,
                "rappel_envoye_le": _iso(n.reminded_at),
            }
            for n in db.session.scalars(
                select(NextMeeting)
                .where(NextMeeting.pair_id.in_(pair_ids))
                .order_by(NextMeeting.id)
            )
        ]
        # The corrections the tutor made to the meetings they logged (the mentee does not see
        # this history on her pages: neither here).
        data["vos_corrections_de_rencontres"] = [
            {
                "binome": c.pair_id,
                "le": _iso(c.at),
                "type": c.kind.label,
                "changements": [
                    {"champ": label, "avant": before, "apres": after}
                    for label, before, after in c.lines
                ],
            }
            for c in db.session.scalars(
                select(MeetingChange)
                .where(MeetingChange.pair_id.in_(pair_ids), MeetingChange.actor_id == user.id)
                .order_by(MeetingChange.at, MeetingChange.id)
            )
        ]
    data["messages_recus"] = (
        [
            {
                "cree_le": _iso(m.created_at),
                "envoye_le": _iso(m.sent_at),
                "objet": m.subject,
                "statut": m.status.label,
            }
            for m in db.session.scalars(
                select(OutboxEmail)
                .where(func.lower(OutboxEmail.recipient) == user.email.lower())
                .order_by(OutboxEmail.created_at, OutboxEmail.id)
            )
        ]
        if user.email
        else []
    )
    data["consultations_de_votre_dossier"] = [
        {
            "le": _iso(row.at),
            "par": _person(row.actor, user) if row.actor_id else "personne non connectée",
            "action": ACCESS_ACTION_LABELS.get(row.action, row.action),
            "page": row.target,
        }
        for row in db.session.scalars(
            select(AccessLog)
            .where(AccessLog.subject_id == user.id)
            .order_by(AccessLog.at, AccessLog.id)
        )
    ]
    left_out = dict(LEFT_OUT)
    if user.role == Role.TUTOR:
        left_out["ce_qui_ne_vous_est_pas_partage"] = LEFT_OUT_TUTOR
    data["non_inclus_et_pourquoi"] = left_out
    return data


def request_erasure(user: User) -> None:
    """The person asks for their data to be erased (the département answers within a month)."""
    if user.erasure_requested_at is None:
        user.erasure_requested_at = datetime.now(UTC)
    audit.note(
        AccessAction.ERASURE_REQUEST,
        target="account.request_erasure",
        subject_id=user.id,
        actor=user,
    )


def erase_messages(user: User, now: datetime | None = None) -> dict[str, int]:
    """Every message naming `user` (addressed to them or about them): those not yet sent are
    cancelled, never to leave; all are redacted (recipient, subject and bodies replaced).

    Run before the person's name and address are overwritten: messages without links are
    still found by them."""
    now = now or datetime.now(UTC)
    report = {"annulés": 0, "effacés": 0}
    for model, links, key in MESSAGE_OUTBOXES:
        named = select(links.c[key]).where(links.c.user_id == user.id)
        about: ColumnElement[bool] = model.id.in_(named)
        if user.email:
            about = about | (func.lower(model.recipient) == user.email.lower())
        full_name = user.full_name
        if len(full_name) >= 5:
            # Belt and braces for rows without links (written before them, or by a template
            # printing someone its context did not pass): any text naming the person in full.
            about = about | model.body_text.contains(full_name, autoescape=True)
        # A sender that claimed one of them re-checks its status just before sending.
        cancelled = db.session.execute(
            update(model)
            .where(about, model.status.in_(UNSENT_STATUSES))
            .values(status=MessageStatus.CANCELLED)
            .execution_options(synchronize_session=False)
        )
        redacted = db.session.execute(
            update(model)
            .where(about, model.redacted_at.is_(None))
            .values(
                recipient=REDACTED_RECIPIENT,
                subject=REDACTED_SUBJECT,
                body_text=REDACTED_BODY,
                body_html="",
                last_error="",
                redacted_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        report["annulés"] += changed_rows(cancelled)
        report["effacés"] += changed_rows(redacted)
        # Rows already loaded in this session must show (and never write back) their old text.
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, model):
                db.session.expire(obj)
    return report


def coarse_place(profile) -> None:
    """Keep the commune only if it is large enough not to single the person out; otherwise keep its
    canton (statistics by canton stay true), or nothing."""
    if profile.commune_code is None:
        return
    commune = db.session.get(Commune, profile.commune_code)
    if commune is not None and commune.population >= COARSE_MIN_POPULATION:
        return
    profile.canton_code = commune.canton_code if commune is not None else None
    profile.commune_code = None


ERASED_GOAL = "Objectif effacé"
ERASED_TEXT = "(effacé à l'anonymisation)"  # a problem report keeps a description (its check)


def anonymise(user: User, *, actor: User | None) -> None:
    """Remove everything that identifies `user`, so what remains is anonymous, not pseudonymous:
    counts, statuses, dates and coarse codes stay (statistics stay true)."""
    if user.anonymised_at is not None:
        return
    erase_messages(user)
    user.first_name = ANONYMOUS_FIRST
    user.last_name = f"anonymisée n° {user.id}"
    user.email = None if user.role == Role.MENTEE else f"anonyme-{user.id}@anonyme.invalid"
    user.phone = None
    user.street_address = None
    user.postal_code = None
    user.organisation = None
    user.password_hash = None
    user.active = False
    user.session_version = (user.session_version or 1) + 1
    user.anonymised_at = datetime.now(UTC)
    # Free texts may name the person: emptied. Sensitive codes (difficulties) are dropped, the
    # commune is coarsened; métier, statuses and outcomes stay.
    for profile in (user.mentee_profile, user.tutor_profile):
        if profile is not None:
            profile.obstacles = ""
            coarse_place(profile)
    if user.mentee_profile is not None:
        user.mentee_profile.social_note = ""
        user.mentee_profile.birth_date = None
        user.mentee_profile.caf_number = None
        db.session.execute(
            update(TutoringRequest)
            .where(TutoringRequest.mentee_id == user.id)
            .values(message="", constraints="")
        )
    if user.tutor_profile is not None:
        user.tutor_profile.experience_note = ""
    pair_ids = select(Pair.id).where(or_(Pair.mentee_id == user.id, Pair.tutor_id == user.id))
    # The explanation kept with a binôme lists the difficulties in common and the distance; the
    # meeting place is often the commune: both go, the score stays.
    db.session.execute(
        update(Pair)
        .where(Pair.id.in_(pair_ids))
        .values(decline_detail="", outcome_detail="", explanation={}, meeting_place="")
    )
    db.session.execute(
        update(Meeting).where(Meeting.pair_id.in_(pair_ids)).values(note="", place="")
    )
    # The same words kept in the meetings' corrections, and the place of a meeting to come.
    for change in db.session.scalars(
        select(MeetingChange).where(MeetingChange.pair_id.in_(pair_ids))
    ):
        change.changes = {k: v for k, v in change.changes.items() if k not in ("note", "place")}
    db.session.execute(
        update(NextMeeting).where(NextMeeting.pair_id.in_(pair_ids)).values(place="")
    )
    # What was said about the binôme in words (reports, check-ins, goals typed in her words) may
    # name or describe the person: emptied; kinds, answers, codes and dates stay for the figures.
    db.session.execute(
        update(PairReport)
        .where(PairReport.pair_id.in_(pair_ids))
        .values(comment=ERASED_TEXT, handled_note="")
    )
    db.session.execute(update(CheckIn).where(CheckIn.pair_id.in_(pair_ids)).values(comment=""))
    for goal in db.session.scalars(select(Goal).where(Goal.pair_id.in_(pair_ids))):
        goal.text = vocab.GOALS.get(goal.code or "", ERASED_GOAL)
    db.session.execute(
        update(ReferentChange).where(ReferentChange.mentee_id == user.id).values(reason="")
    )
    request_ids = select(TutoringRequest.id).where(TutoringRequest.mentee_id == user.id)
    db.session.execute(
        update(StatusEvent)
        .where(
            or_(
                (StatusEvent.entity == EventEntity.PAIR) & StatusEvent.entity_id.in_(pair_ids),
                (StatusEvent.entity == EventEntity.REQUEST)
                & StatusEvent.entity_id.in_(request_ids),
            )
        )
        .values(reason="")
    )
    # Nothing stays pending on them (proposals withdrawn, demande closed, with their events); no
    # email about a person who asked to be forgotten.
    deactivate_account(user, actor, "Compte anonymisé", notify=False)
    audit.note(
        AccessAction.ANONYMISATION, target=f"compte n° {user.id}", subject_id=user.id, actor=actor
    )


def last_contact(user_ids: list[int]) -> dict[int, datetime]:
    """The last sign of life of each person: account activity, a status change, a meeting."""
    out: dict[int, datetime] = {}

    def keep(rows):
        for uid, at in rows:
            if at is None:
                continue
            if isinstance(at, date) and not isinstance(at, datetime):
                at = datetime(at.year, at.month, at.day, tzinfo=UTC)
            elif at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            if uid not in out or at > out[uid]:
                out[uid] = at

    keep(db.session.execute(select(User.id, User.created_at).where(User.id.in_(user_ids))).all())
    keep(db.session.execute(select(User.id, User.last_login_at).where(User.id.in_(user_ids))).all())
    for column in (Pair.mentee_id, Pair.tutor_id):
        keep(
            db.session.execute(
                select(column, func.max(Pair.updated_at))
                .where(column.in_(user_ids))
                .group_by(column)
            ).all()
        )
        keep(
            db.session.execute(
                select(column, func.max(Meeting.date))
                .join(Pair, Pair.id == Meeting.pair_id)
                .where(column.in_(user_ids))
                .group_by(column)
            ).all()
        )
    keep(
        db.session.execute(
            select(TutoringRequest.mentee_id, func.max(TutoringRequest.updated_at))
            .where(TutoringRequest.mentee_id.in_(user_ids))
            .group_by(TutoringRequest.mentee_id)
        ).all()
    )
    return out


def purge(now: datetime | None = None) -> dict[str, int]:
    """Anonymise mentees and tutors without contact for RETENTION_DAYS; old access logs go. Safe twice."""
    now = now or datetime.now(UTC)
    limit = now - timedelta(days=current_app.config["RETENTION_DAYS"])
    candidates = db.session.scalars(
        select(User.id).where(
            User.role.in_((Role.MENTEE, Role.TUTOR)), User.anonymised_at.is_(None)
        )
    ).all()
    anonymised = 0
    for start in range(0, len(candidates), 500):
        chunk = list(candidates[start : start + 500])
        contacts = last_contact(chunk)
        for uid in chunk:
            if contacts.get(uid, now) < limit:
                user = db.session.get_one(User, uid)
                if _has_live_pair(uid):
                    continue
                anonymise(user, actor=None)
                anonymised += 1
        db.session.commit()
    logs = audit.purge_old(now)
    db.session.commit()
    messages = purge_messages(now)
    db.session.commit()
    files = purge_imports(now)
    db.session.commit()
    applications = vetting.purge_decided(now)
    db.session.commit()
    return {
        "anonymisées": anonymised,
        "journal": logs,
        "messages": messages,
        "imports": files,
        "candidatures": applications,
    }


def purge_imports(now: datetime | None = None) -> int:
    """Delete the files uploaded for import once older than IMPORT_RETENTION_DAYS (they list people)."""
    now = now or datetime.now(UTC)
    limit = now - timedelta(days=current_app.config["IMPORT_RETENTION_DAYS"])
    result = db.session.execute(
        delete(BeneficiaryImport)
        .where(BeneficiaryImport.created_at < limit)
        .execution_options(synchronize_session=False)
    )
    return changed_rows(result)


def purge_messages(now: datetime | None = None) -> int:
    """Delete messages that will not leave any more (sent, cancelled, given up) once older than
    OUTBOX_RETENTION_DAYS: their bodies name people and carry links. Pending ones stay."""
    now = now or datetime.now(UTC)
    limit = now - timedelta(days=current_app.config["OUTBOX_RETENTION_DAYS"])
    deleted = 0
    for model, _links, _key in MESSAGE_OUTBOXES:
        # Links go with their row (ON DELETE CASCADE).
        result = db.session.execute(
            delete(model)
            .where(
                model.status.in_(FINISHED_STATUSES),
                func.coalesce(model.sent_at, model.created_at) < limit,
            )
            .execution_options(synchronize_session=False)
        )
        deleted += changed_rows(result)
    return deleted


def _has_live_pair(user_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(Pair)
            .where(
                or_(Pair.mentee_id == user_id, Pair.tutor_id == user_id),
                Pair.status.in_(LIVE_PAIR_STATUSES),
            )
        )
    )


__all__ = [
    "anonymise",
    "coarse_place",
    "erase_messages",
    "my_data",
    "purge",
    "purge_messages",
    "request_erasure",
]
