"""Profiles: where people live, what trade, when they are free, what they share."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tutorat import vocab
from tutorat.models import MenteeProfile, TutorProfile
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
) -> None:
    _check_common(availability, max_km, obstacles)
    if not metier_codes:
        raise DomainError("Indiquez au moins un métier visé.", field="metier_1")
    profile.commune_code = commune_code
    profile.target_metiers = ",".join(dict.fromkeys(metier_codes))[:20]
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
) -> None:
    _check_common(availability, max_km, obstacles)
    if not 1 <= capacity <= 3:
        raise DomainError("Vous pouvez suivre de 1 à 3 personnes.", field="capacity")
    if capacity < profile.places_used:
        raise DomainError(
            f"Vous suivez déjà {profile.places_used} personne(s) : la capacité ne peut pas être plus petite.",
            field="capacity",
        )
    profile.commune_code = commune_code
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
        labels = metier_labels(profile.metier_codes)
        shared["metiers"] = [f"{labels.get(c, c)} ({c})" for c in profile.metier_codes]
    if profile.share_obstacles:
        shared["obstacles"] = [vocab.OBSTACLES.get(o, o) for o in profile.obstacle_codes]
    return shared
