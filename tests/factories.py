"""Factories with role traits: make a référent, a complete mentee, a validated tutor…"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from tutorat.extensions import db
from tutorat.models import MenteeProfile, Role, TutorProfile, User
from tutorat.services import accounts

PASSWORD = "Une-phrase-de-passe-solide-2026"
_seq = itertools.count(1)

# Slots: mardi soir = bit 5, samedi matin = bit 15.
MARDI_SOIR = 1 << 5
SAMEDI_MATIN = 1 << 15


def make_user(
    role: Role, *, email: str | None = "auto", password: str | None = PASSWORD, **kw
) -> User:
    n = next(_seq)
    if email == "auto":
        email = f"{role.value}{n}@test.example.org"
    referent = kw.pop("referent", None)
    user = accounts.create_user(
        role=role,
        email=email,
        first_name=kw.pop("first_name", f"Prénom{n}"),
        last_name=kw.pop("last_name", f"Nom{n}"),
        phone=kw.pop("phone", "06 12 34 56 78"),
        password=password,
        referent=referent,
        capacity=kw.pop("capacity", 1),
    )
    for key, value in kw.items():
        setattr(user, key, value)
    db.session.flush()
    return user


def make_referent(**kw) -> User:
    return make_user(Role.REFERENT, **kw)


def make_admin(**kw) -> User:
    return make_user(Role.ADMIN, **kw)


def make_mentee(
    referent: User,
    *,
    complete: bool = True,
    commune: str = "32013",
    metiers: str = "J1501",
    availability: int = MARDI_SOIR | SAMEDI_MATIN,
    has_car: bool = False,
    max_km: int = 15,
    remote_ok: bool = False,
    **kw,
) -> User:
    user = make_user(Role.MENTEE, referent=referent, **kw)
    profile = db.session.get(MenteeProfile, user.id)
    if complete:
        profile.commune_code = commune
        profile.target_metiers = metiers
        profile.availability = availability
        profile.has_car = has_car
        profile.max_km = max_km
        profile.remote_ok = remote_ok
        profile.completed_at = datetime.now(UTC)
    db.session.flush()
    return user


def make_tutor(
    *,
    commune: str = "32307",
    metier: str = "J1501",
    availability: int = MARDI_SOIR | SAMEDI_MATIN,
    capacity: int = 1,
    has_car: bool = True,
    max_km: int = 30,
    validated: bool = True,
    remote_ok: bool = False,
    **kw,
) -> User:
    user = make_user(Role.TUTOR, capacity=capacity, **kw)
    profile = db.session.get(TutorProfile, user.id)
    profile.commune_code = commune
    profile.metier_code = metier
    profile.availability = availability
    profile.has_car = has_car
    profile.max_km = max_km
    profile.remote_ok = remote_ok
    profile.completed_at = datetime.now(UTC)
    profile.validated_at = datetime.now(UTC) if validated else None
    db.session.flush()
    return user


def make_proposal(referent: User, mentee: User, tutor: User):
    """A demande opened by `mentee` and the proposal of `tutor` by `referent` (the services' way)."""
    from tutorat.services import pairs as pair_service
    from tutorat.services import requests as request_service

    tutoring_request = request_service.open_request(
        mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
    )
    db.session.flush()
    return pair_service.propose(tutoring_request, tutor.id, actor=referent)


def make_active_pair(referent: User, mentee: User, tutor: User):
    """A binôme proposed, accepted by both sides and confirmed by `referent`."""
    from tutorat.services import pairs as pair_service

    pair = make_proposal(referent, mentee, tutor)
    pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
    pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
    pair_service.confirm(pair, actor=referent)
    return pair
