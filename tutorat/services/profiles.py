"""Profiles: where people live, what trade, when they are free, what they share."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import MenteeProfile, Pair, TutorProfile
from tutorat.models.pairs import LIVE_PAIR_STATUSES, RUNNING_PAIR_STATUSES
from tutorat.services.errors import DomainError
from tutorat.services.reference import metier_labels

PARIS = ZoneInfo("Europe/Paris")

SHARE_FIELDS = ("first_name", "commune", "phone", "email", "metier", "obstacles")


def _check_common(availability: int, max_km: int, obstacles: list[str]) -> None:
    if not 0 <= availability < (1 << 21):
        raise DomainError("Créneaux inconnus.", field="slots")
    if availability == 0:
        raise DomainError("Cochez au moins un moment où vous êtes disponible.", field="slots")
    if not 0 <= max_km <= 200:
        raise DomainError(
            "La distance maximale doit être comprise entre 0 et 200 km.", field="max_km"
        )
    if any(o not in vocab.OBSTACLES for o in obstacles):
        raise DomainError("Difficulté inconnue : choisissez dans la liste.", field="obstacles")


def update_mentee_profile(
    profile: MenteeProfile,
    *,
    commune_code: str,
    metier_codes: list[str],
    availability: int,
    has_car: bool,
    max_km: int,
    remote_ok: bool,
    obstacles: list[str],
    shares: dict[str, bool],
    metier_titles: list[str] | None = None,
) -> None:
    """Save the mentee's profile; `metier_titles` are the job titles she picked, in the order of
    `metier_codes` (what she is shown back, never replaced by the ROME label)."""
    _check_common(availability, max_km, obstacles)
    if not metier_codes:
        raise DomainError("Indiquez au moins un métier visé.", field="metier_1")
    titles = dict(zip(metier_codes, metier_titles or [], strict=False))
    codes = list(dict.fromkeys(metier_codes))
    profile.commune_code = commune_code
    profile.target_metiers = ",".join(codes)[:20]
    profile.target_titles = "\n".join(
        " ".join(titles.get(code, "").split())[:300] for code in profile.metier_codes
    )
    profile.availability = availability
    profile.has_car = has_car
    profile.max_km = max_km
    profile.remote_ok = remote_ok
    profile.obstacles = ",".join(obstacles)
    for field in SHARE_FIELDS:
        setattr(profile, f"share_{field}", bool(shares.get(field)))
    if profile.completed_at is None:
        profile.completed_at = datetime.now(UTC)


def update_tutor_profile(
    profile: TutorProfile,
    *,
    commune_code: str,
    metier_code: str,
    availability: int,
    has_car: bool,
    max_km: int,
    remote_ok: bool,
    obstacles: list[str],
    capacity: int,
    experience_note: str,
    unavailable_until: date | None = None,
    metier_title: str = "",
) -> str:
    """Save the tutor's profile; returns what a change of capacity does (or "")."""
    _check_common(availability, max_km, obstacles)
    if not 1 <= capacity <= 3:
        raise DomainError("Vous pouvez suivre de 1 à 3 personnes.", field="capacity")
    news = capacity_effect(profile, capacity)  # refuses a capacity below the places taken
    profile.commune_code = commune_code
    if metier_code != profile.metier_code or metier_title:
        profile.metier_title = " ".join(metier_title.split())[:300]
    profile.metier_code = metier_code
    profile.availability = availability
    profile.has_car = has_car
    profile.max_km = max_km
    profile.remote_ok = remote_ok
    profile.obstacles = ",".join(obstacles)
    profile.capacity = capacity
    profile.experience_note = experience_note.strip()
    if unavailable_until != profile.unavailable_until:
        set_unavailable_until(profile, unavailable_until)
    if profile.completed_at is None:
        profile.completed_at = datetime.now(UTC)
    return news


def _persons(n: int) -> str:
    return f"{n} personne{'s' if n > 1 else ''}"


def places_taken(profile: TutorProfile) -> tuple[int, int]:
    """The tutor's places taken (`places_used`), told apart: (binômes running, proposals waiting
    for an answer or for the référent's confirmation). Each takes a place."""
    running, live = db.session.execute(
        select(func.count(case((Pair.status.in_(RUNNING_PAIR_STATUSES), 1))), func.count()).where(
            Pair.tutor_id == profile.user_id, Pair.status.in_(LIVE_PAIR_STATUSES)
        )
    ).one()
    return int(running), int(live) - int(running)


def places_sentence(running: int, pending: int) -> str:
    """« 1 binôme en cours et 1 proposition en attente » (what takes the tutor's places)."""
    parts = []
    if running:
        parts.append(f"{running} binôme{'s' if running > 1 else ''} en cours")
    if pending:
        parts.append(f"{pending} proposition{'s' if pending > 1 else ''} en attente")
    return " et ".join(parts) or "aucun binôme ni proposition en cours"


def capacity_effect(profile: TutorProfile, capacity: int) -> str:
    """What changing the capacity to `capacity` does to the tutor's binômes and proposals (the
    sentence shown once saved), or a refusal when fewer places than those taken are asked."""
    if capacity == profile.capacity:
        return ""
    running, pending = places_taken(profile)
    taken = max(running + pending, profile.places_used)
    if capacity < taken:
        waiting = (
            " Les propositions en attente restent valables : si vous ne pouvez pas suivre une "
            "personne proposée, refusez sa proposition depuis sa page, puis baissez ce nombre."
            if pending
            else ""
        )
        raise DomainError(
            f"Vous avez en ce moment {places_sentence(running, pending)} : cela fait "
            f"{_persons(taken)}. Le nombre ne peut pas descendre en dessous de {taken}.{waiting}",
            field="capacity",
        )
    left = capacity - taken
    if capacity > profile.capacity:
        return (
            f"Vous pouvez maintenant suivre {_persons(capacity)} en même temps : le référent "
            f"pourra vous proposer {_persons(left)} de plus."
        )
    kept = []
    if running:
        kept.append(f"vos binômes en cours ({running}) continuent")
    if pending:
        kept.append(f"les propositions en attente ({pending}) restent valables")
    joined = " et ".join(kept)
    still = f"{joined[:1].upper()}{joined[1:]}. " if kept else ""
    if left == 0:
        return (
            f"Vous suivrez au plus {_persons(capacity)}. {still}Aucune nouvelle personne ne vous "
            "sera proposée tant qu'une place ne se libère pas."
        )
    return (
        f"Vous suivrez au plus {_persons(capacity)}. {still}Le référent pourra encore vous "
        f"proposer {_persons(left)}."
    )


def local_today(now: datetime | None = None) -> date:
    """Today in the Gers (a day typed by a person is a local day)."""
    return (now or datetime.now(UTC)).astimezone(PARIS).date()


def unavailable_end(day: date | None) -> datetime | None:
    """When « indisponible jusqu'au <day> » ends: the next local midnight, in UTC."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS).astimezone(UTC)


def set_unavailable_until(
    profile: TutorProfile, day: date | None, *, now: datetime | None = None
) -> None:
    """The tutor's own pause: no proposal up to and including `day` (None: available again)."""
    if day is not None:
        today = local_today(now)
        if day < today:
            raise DomainError(
                "Cette date est passée : laissez le champ vide si vous êtes disponible.",
                field="unavailable_until",
            )
        if day > today + timedelta(days=366):
            raise DomainError(
                "Indiquez une date dans l'année qui vient ; au-delà, vous pouvez quitter le "
                "programme depuis votre compte et revenir plus tard.",
                field="unavailable_until",
            )
    profile.unavailable_until = day


def validate_tutor(profile: TutorProfile, *, now: datetime | None = None) -> None:
    """The département has checked this tutor (services/vetting.py::validate): they may be proposed."""
    if profile.validated_at is None:
        profile.validated_at = now or datetime.now(UTC)


def set_social_note(profile: MenteeProfile, note: str) -> None:
    """The référent's note on the person's situation (never shown to the tutor)."""
    profile.social_note = note.strip()


def metiers_shown(profile: MenteeProfile) -> list[str]:
    """The mentee's métiers as she picked them: her job title, then the ROME label and code
    (the label alone, with its code, for a métier saved before titles were kept)."""
    labels = metier_labels(profile.metier_codes)
    titles = profile.metier_titles
    shown = []
    for code in profile.metier_codes:
        label, title = labels.get(code, code), titles.get(code, "")
        if title and title.lower() != label.lower():
            shown.append(f"{title} (métier du ROME : {label}, {code})")
        else:
            shown.append(f"{label} ({code})")
    return shown


def shared_with_tutor(profile: MenteeProfile, *, contact: bool = False) -> dict[str, object]:
    """Only what the mentee agreed to share, field by field (the tutor sees nothing else).

    Contact details (phone, email) only once the binôme is active (`contact=True`).
    """
    user = profile.user
    shared: dict[str, object] = {}
    if profile.share_first_name:
        shared["first_name"] = user.first_name
    if profile.share_commune and profile.commune is not None:
        shared["commune"] = profile.commune.nom
    if contact and profile.share_phone and user.phone:
        shared["phone"] = user.phone
    if contact and profile.share_email and user.email:
        shared["email"] = user.email
    if profile.share_metier:
        shared["metiers"] = metiers_shown(profile)
    if profile.share_obstacles:
        shared["obstacles"] = [vocab.OBSTACLES.get(o, o) for o in profile.obstacle_codes]
    return shared
