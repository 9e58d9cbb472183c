"""Personal data (RGPD): a person's own data, erasure, anonymisation, retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, update

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import Meeting, Pair, Request, Role, StatusEvent, User
from tutorat.services import audit

ANONYMOUS_FIRST = "Personne"


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def my_data(user: User) -> dict[str, Any]:
    """Everything Tutorat holds about `user` that their own pages may show (not the référent's notes)."""
    data: dict[str, Any] = {
        "compte": {
            "prenom": user.first_name,
            "nom": user.last_name,
            "adresse_electronique": user.email,
            "telephone": user.phone,
            "type_de_compte": user.role_label,
            "structure": user.organisation,
            "cree_le": _iso(user.created_at),
            "derniere_connexion": _iso(user.last_login_at),
            "consentement_le": _iso(user.consent_at),
            "courriels": {
                "propositions": user.notify_proposals,
                "rappels": user.notify_reminders,
                "resume_hebdomadaire": user.notify_digest,
            },
        }
    }
    if user.role == Role.MENTEE and user.mentee_profile is not None:
        p = user.mentee_profile
        data["profil"] = {
            "commune": p.commune.nom if p.commune else None,
            "metiers_vises": p.metier_codes,
            "disponibilites": vocab.slots_labels(p.availability),
            "voiture": p.has_car,
            "distance_max_km": p.max_km,
            "rencontres_a_distance": p.remote_ok,
            "difficultes": vocab.labels(p.obstacle_codes, vocab.OBSTACLES),
            "partage_avec_le_tuteur": {
                f: getattr(p, f"share_{f}")
                for f in ("first_name", "commune", "phone", "email", "metier", "obstacles")
            },
            "referent": p.referent.full_name if p.referent else None,
        }
        data["demandes"] = [
            {
                "numero": r.id,
                "statut": r.status_label,
                "creee_le": _iso(r.created_at),
                "sujets": vocab.labels(r.topic_codes, vocab.TOPICS),
                "message": r.message,
                "contraintes": r.constraints,
            }
            for r in db.session.scalars(
                select(Request).where(Request.mentee_id == user.id).order_by(Request.id)
            )
        ]
    if user.role == Role.TUTOR and user.tutor_profile is not None:
        p = user.tutor_profile
        data["profil"] = {
            "commune": p.commune.nom if p.commune else None,
            "metier": p.metier_code,
            "disponibilites": vocab.slots_labels(p.availability),
            "voiture": p.has_car,
            "distance_max_km": p.max_km,
            "rencontres_a_distance": p.remote_ok,
            "difficultes_surmontees": vocab.labels(p.obstacle_codes, vocab.OBSTACLES),
            "capacite": p.capacity,
            "experience": p.experience_note,
        }
    pairs = db.session.scalars(
        select(Pair)
        .where(or_(Pair.mentee_id == user.id, Pair.tutor_id == user.id))
        .order_by(Pair.id)
    ).all()
    if pairs:
        meetings = db.session.scalars(
            select(Meeting).where(Meeting.pair_id.in_([p.id for p in pairs])).order_by(Meeting.date)
        ).all()
        data["binomes"] = [
            {
                "numero": p.id,
                "statut": p.status_label,
                "propose_le": _iso(p.proposed_at),
                "score": p.score,
                "raisons": (p.explanation or {}).get("reasons", []),
                "poids": p.weights,
                "resultat": vocab.OUTCOMES.get(p.outcome or "", None),
                "rencontres": [
                    {
                        "date": _iso(m.date),
                        "duree_minutes": m.duration_minutes,
                        "mode": m.mode_label,
                        "lieu": m.place,
                        "note": m.note,
                    }
                    for m in meetings
                    if m.pair_id == p.id
                ],
            }
            for p in pairs
        ]
    return data


def request_erasure(user: User) -> None:
    if user.erasure_requested_at is None:
        user.erasure_requested_at = datetime.now(UTC)


def anonymise(user: User, *, actor: User | None) -> None:
    """Remove everything that identifies `user`; counts, statuses, dates and codes stay (statistics stay true)."""
    if user.anonymised_at is not None:
        return
    user.first_name = ANONYMOUS_FIRST
    user.last_name = f"anonymisée n° {user.id}"
    user.email = None if user.role == Role.MENTEE else f"anonyme-{user.id}@anonyme.invalid"
    user.phone = None
    user.organisation = None
    user.password_hash = None
    user.active = False
    user.session_version = (user.session_version or 1) + 1
    user.anonymised_at = datetime.now(UTC)
    # Free texts may name the person: emptied. Codes (commune, métier, statuses, outcomes) stay.
    if user.mentee_profile is not None:
        user.mentee_profile.social_note = ""
        db.session.execute(
            update(Request).where(Request.mentee_id == user.id).values(message="", constraints="")
        )
    if user.tutor_profile is not None:
        user.tutor_profile.experience_note = ""
    pair_ids = select(Pair.id).where(or_(Pair.mentee_id == user.id, Pair.tutor_id == user.id))
    db.session.execute(
        update(Pair).where(Pair.id.in_(pair_ids)).values(decline_detail="", outcome_detail="")
    )
    db.session.execute(
        update(Meeting).where(Meeting.pair_id.in_(pair_ids)).values(note="", place="")
    )
    request_ids = select(Request.id).where(Request.mentee_id == user.id)
    db.session.execute(
        update(StatusEvent)
        .where(
            or_(
                (StatusEvent.entity == "binome") & StatusEvent.entity_id.in_(pair_ids),
                (StatusEvent.entity == "demande") & StatusEvent.entity_id.in_(request_ids),
            )
        )
        .values(reason="")
    )
    # Nothing stays pending on them (proposals withdrawn, demande closed, with their events); no
    # email about a person who asked to be forgotten.
    from tutorat.services.deactivation import deactivate_account

    deactivate_account(user, actor, "Compte anonymisé", notify=False)
    audit.note("anonymisation", target=f"compte n° {user.id}", subject_id=user.id, actor=actor)


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
            select(Request.mentee_id, func.max(Request.updated_at))
            .where(Request.mentee_id.in_(user_ids))
            .group_by(Request.mentee_id)
        ).all()
    )
    return out


def purge(now: datetime | None = None) -> dict[str, int]:
    """Anonymise mentees and tutors without contact for RETENTION_DAYS; old access logs go. Safe twice."""
    now = now or datetime.now(UTC)
    limit = now - timedelta(days=current_app.config["RETENTION_DAYS"])
    candidates = db.session.scalars(
        select(User.id).where(
            User.role.in_((Role.MENTEE.value, Role.TUTOR.value)), User.anonymised_at.is_(None)
        )
    ).all()
    anonymised = 0
    for start in range(0, len(candidates), 500):
        chunk = list(candidates[start : start + 500])
        contacts = last_contact(chunk)
        for uid in chunk:
            if contacts.get(uid, now) < limit:
                user = db.session.get(User, uid)
                if _has_live_pair(uid):
                    continue
                anonymise(user, actor=None)
                anonymised += 1
        db.session.commit()
    logs = audit.purge_old(now)
    db.session.commit()
    return {"anonymisées": anonymised, "journal": logs}


def _has_live_pair(user_id: int) -> bool:
    from tutorat.models.pairs import LIVE_PAIR_STATUSES

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


__all__ = ["anonymise", "my_data", "purge", "request_erasure"]
