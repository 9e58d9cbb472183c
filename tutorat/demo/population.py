"""The demo population: ~300 mentees, 120 tutors, 6 référents over the real Gers communes and ROME codes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import numpy as np
from sqlalchemy import delete, func, select

import matching
from tutorat import vocab
from tutorat.demo import applications, story
from tutorat.extensions import db
from tutorat.models import (
    Commune,
    MenteeProfile,
    OutboxEmail,
    OutboxEmailPerson,
    Pair,
    PairStatus,
    Role,
    RomeMetier,
    TutoringRequest,
    TutoringRequestStatus,
    TutorProfile,
    User,
)
from tutorat.models.pairs import PAIR_STATUS_LABELS
from tutorat.models.requests import TUTORING_REQUEST_STATUS_LABELS
from tutorat.services import accounts, caseload, imports, suggestions
from tutorat.services.reference import load_reference_data

DEMO_PASSWORD = "Demo-Armagnac-2026"
# How far back the demo's history starts.
HISTORY_DAYS = 150
DEMO_EMAILS = (
    "admin@example.org",
    "referent@example.org",
    "tuteur@example.org",
    "beneficiaire@example.org",
)

# Trades common in the Gers (agriculture, care, food, building, retail, logistics).
COMMON_METIERS = [
    "A1203",
    "A1405",
    "A1414",
    "A1416",
    "D1102",
    "D1106",
    "D1214",
    "D1507",
    "F1602",
    "F1703",
    "G1602",
    "G1603",
    "G1803",
    "H2102",
    "I1604",
    "J1501",
    "K1302",
    "K1303",
    "K1304",
    "K2204",
    "M1607",
    "N1103",
    "N4101",
    "N4105",
]
FIRST_NAMES = [
    "Amandine",
    "Bernard",
    "Chantal",
    "Damien",
    "Élodie",
    "Fatima",
    "Gilles",
    "Hélène",
    "Isabelle",
    "Jérôme",
    "Karima",
    "Laurent",
    "Maëlle",
    "Nadia",
    "Olivier",
    "Pascale",
    "Quentin",
    "Rachid",
    "Sandrine",
    "Thierry",
    "Ursula",
    "Valérie",
    "William",
    "Yasmine",
    "Zoé",
    "Aurélien",
    "Brigitte",
    "Cédric",
    "Delphine",
    "Émile",
    "Florence",
    "Grégory",
    "Inès",
    "Julien",
    "Kévin",
    "Léa",
    "Mickaël",
    "Nathalie",
    "Océane",
    "Patrick",
]
LAST_NAMES = [
    "Abadie",
    "Barrère",
    "Castéra",
    "Dupouy",
    "Espagnet",
    "Fitte",
    "Garros",
    "Hourcade",
    "Idrac",
    "Joantéguy",
    "Labat",
    "Lacoste",
    "Lagardère",
    "Marsan",
    "Nogués",
    "Ortholan",
    "Pujol",
    "Quéheille",
    "Ribes",
    "Sarrat",
    "Soulé",
    "Tarbouriech",
    "Uzan",
    "Vignaux",
    "Baylac",
    "Cazaux",
    "Daguzan",
    "Fourcade",
    "Lapeyre",
    "Ducos",
]


STREETS = (
    "rue de la République",
    "place de la Mairie",
    "chemin du Moulin",
    "route d'Auch",
    "rue des Écoles",
    "lieu-dit Le Bourg",
    "avenue de Gascogne",
    "impasse des Tilleuls",
)


SAMPLE_IMPORT = Path(__file__).resolve().parents[2] / "docs" / "exemple-import.csv"


def _slots(rng: random.Random, n: int) -> int:
    return sum(1 << b for b in rng.sample(range(21), n))


def _phone(rng: random.Random) -> str:
    return "06 " + " ".join(f"{rng.randrange(100):02d}" for _ in range(4))


def seed_demo(seed: int = 32) -> bool:
    """Create the demo population once; returns False if it is already there."""
    if db.session.scalar(select(func.count()).where(User.email == "admin@example.org")):
        return False
    if not db.session.scalar(select(func.count()).select_from(Commune)):
        load_reference_data()
    rng = random.Random(seed)
    # The simulated clock runs from `start` to the present: every story happens in between.
    now = datetime.now(UTC)
    start = now - timedelta(days=HISTORY_DAYS)
    communes = list(db.session.scalars(select(Commune).order_by(Commune.code_insee)))
    weights = [c.population**0.6 for c in communes]
    by_code = {c.code_insee: c for c in communes}
    known = set(db.session.scalars(select(RomeMetier.code)))
    metiers = [m for m in COMMON_METIERS if m in known]
    all_metiers = sorted(known)
    password_hash = accounts.hash_password(DEMO_PASSWORD)

    def person(
        role: Role, email: str | None, first: str | None = None, last: str | None = None, **kw
    ) -> User:
        created = start - timedelta(days=rng.uniform(1, 300))
        user = User(
            role=role.value,
            email=email,
            first_name=first or rng.choice(FIRST_NAMES),
            last_name=last or rng.choice(LAST_NAMES),
            phone=_phone(rng),
            active=True,
            session_version=1,
            password_hash=password_hash if email else None,
            created_at=created,
            **kw,
        )
        db.session.add(user)
        db.session.flush()
        registered_by = db.session.get(User, user.created_by_id) if user.created_by_id else None
        accounts.record_consent(user, by=registered_by or user, at=created)
        return user

    def commune() -> Commune:
        return rng.choices(communes, weights)[0]

    def metier() -> str:
        return rng.choice(metiers) if rng.random() < 0.8 else rng.choice(all_metiers)

    click.echo("Comptes de démonstration…")
    person(
        Role.ADMIN,
        "admin@example.org",
        "Claire",
        "Dufaur",
        organisation="Conseil départemental du Gers",
    )
    referents = [
        person(
            Role.REFERENT,
            "referent@example.org",
            "Sophie",
            "Lamothe",
            organisation="Maison départementale des Solidarités (démonstration)",
        )
    ]
    for i in range(2, 7):
        referents.append(
            person(
                Role.REFERENT,
                f"referent{i}@example.org",
                organisation=f"Structure d'accompagnement n° {i} (démonstration)",
            )
        )
    db.session.flush()

    auch = by_code["32013"]
    tutors: list[tuple[User, TutorProfile]] = []
    with click.progressbar(range(120), label="Tuteurs".ljust(16)) as bar:
        for i in bar:
            demo = i == 0
            user = person(
                Role.TUTOR,
                "tuteur@example.org" if demo else f"tuteur{i}@example.org",
                "Marc" if demo else None,
                "Soubiran" if demo else None,
            )
            db.session.flush()
            place = by_code["32307"] if demo else commune()  # Pavie, next to Auch
            has_car = demo or rng.random() < 0.75
            tutor_profile = TutorProfile(
                user_id=user.id,
                commune_code=place.code_insee,
                metier_code="J1501" if demo else metier(),
                metier_title="Aide-soignant / Aide-soignante" if demo else "",
                availability=(1 << 5) | (1 << 7) | (1 << 11) | (1 << 15)
                if demo
                else _slots(rng, rng.randint(2, 7)),
                has_car=has_car,
                max_km=40 if demo else (rng.choice([15, 20, 30, 40]) if has_car else 10),
                remote_ok=demo or rng.random() < 0.5,
                obstacles="mobility,childcare"
                if demo
                else ",".join(rng.sample(list(vocab.OBSTACLES), rng.randint(0, 2))),
                # An active binôme, a proposal to answer, and a free place.
                capacity=3 if demo else rng.choice([1, 1, 2, 2, 3]),
                places_used=0,
                experience_note="J'ai été au RSA pendant deux ans ; une formation d'aide-soignant m'a remis en selle."
                if demo
                else "",
                validated_at=None
                if (not demo and rng.random() < 0.08)
                else user.created_at + timedelta(hours=rng.uniform(1, 20)),
                completed_at=user.created_at,
            )
            db.session.add(tutor_profile)
            tutors.append((user, tutor_profile))
    db.session.flush()

    mentees: list[tuple[User, MenteeProfile]] = []
    with click.progressbar(range(300), label="Bénéficiaires".ljust(16)) as bar:
        for i in bar:
            demo = i == 0
            referent = referents[0] if (demo or i % 6 == 0) else referents[i % 6]
            has_email = demo or rng.random() < 0.7
            user = person(
                Role.MENTEE,
                "beneficiaire@example.org"
                if demo
                else (f"beneficiaire{i}@example.org" if has_email else None),
                "Julie" if demo else None,
                "Carrère" if demo else None,
                created_by_id=referent.id,
            )
            db.session.flush()
            place = auch if demo else commune()
            has_car = (not demo) and rng.random() < 0.45
            profile = MenteeProfile(
                user_id=user.id,
                referent_id=referent.id,
                commune_code=place.code_insee,
                target_metiers="J1501"
                if demo
                else ",".join(dict.fromkeys(metier() for _ in range(rng.randint(1, 2)))),
                # The job title the demo mentee picked (shown back to her as such).
                target_titles="Aide-soignant / Aide-soignante en gériatrie" if demo else "",
                # Mardi soir, jeudi après-midi, samedi matin for the demo mentee.
                availability=(1 << 5) | (1 << 10) | (1 << 15)
                if demo
                else _slots(rng, rng.randint(2, 8)),
                has_car=has_car,
                max_km=30
                if demo
                else (rng.choice([15, 20, 30]) if has_car else rng.choice([5, 10, 15])),
                remote_ok=demo or rng.random() < 0.55,
                obstacles="mobility,childcare"
                if demo
                else ",".join(rng.sample(list(vocab.OBSTACLES), rng.randint(0, 3))),
                share_first_name=True,
                share_commune=True,
                share_metier=True,
                share_phone=demo or rng.random() < 0.6,
                share_email=rng.random() < 0.4,
                share_obstacles=demo or rng.random() < 0.3,
                social_note="Suivi RSA depuis 2024 ; contrat d'engagement réciproque signé."
                if demo
                else "",
                completed_at=user.created_at,
            )
            db.session.add(profile)
            if not has_email:
                # Reached by post (and, for some, by SMS too): their notices become letters in
                # their référent's « Courriers à envoyer ».
                user.street_address = f"{rng.randint(1, 40)} {rng.choice(STREETS)}"
                user.postal_code = place.codes_postaux.split(";")[0]
                user.contact_email = False
                user.contact_letter = True
                user.contact_sms = rng.random() < 0.3
            mentees.append((user, profile))
    db.session.flush()

    # Statuses spread over the population (the demo mentee has no demande yet): the status each
    # demande or binôme ends in; the services get it there, in time, through the workflow's table.
    targets: list[story.Target | None] = (
        [None] * 50
        + [TutoringRequestStatus.OPEN] * 55
        + [TutoringRequestStatus.WAITING] * 5
        + [TutoringRequestStatus.CANCELLED] * 10
        + [PairStatus.PROPOSED] * 30
        + [PairStatus.TUTOR_ACCEPTED] * 14
        + [PairStatus.MENTEE_ACCEPTED] * 14
        + [PairStatus.ACCEPTED] * 10
        + [PairStatus.ACTIVE] * 60
        + [PairStatus.ENDED] * 30
        + [PairStatus.DECLINED] * 10
        + [PairStatus.EXPIRED] * 6
        + [PairStatus.WITHDRAWN] * 5
        + [PairStatus.PAUSED] * 4
        + [PairStatus.STOP_REQUESTED] * 3
    )
    rng.shuffle(targets)
    demo_tutor = tutors[0][0]
    history = story.History(rng, start, now, tutors, by_code, demo_tutor)
    click.echo("Demandes, binômes, rencontres et relances, jour après jour…")
    farthest: list[tuple[float, Any]] | None = None
    for i, (user, profile) in enumerate(mentees[1:], start=1):
        target = targets[(i - 1) % len(targets)]
        tutor = None
        if i in (1, 2):
            # The demo tutor's active binôme, and a proposal waiting for their answer.
            target = PairStatus.ACTIVE if i == 1 else PairStatus.PROPOSED
            tutor = demo_tutor
            profile.remote_ok, profile.availability = True, profile.availability | (1 << 5)
            profile.target_metiers = "J1501"
        if target is None:
            continue
        if target == TutoringRequestStatus.WAITING:
            if farthest is None:
                farthest = _farthest(communes, [tp for _, tp in tutors], by_code)
            _out_of_reach(profile, farthest)
        assert profile.commune_code is not None
        history.add(
            story.Person(
                user,
                profile,
                profile.referent,
                suggestions.mentee_values(profile, by_code[profile.commune_code]),
            ),
            target,
            tutor=tutor,
        )
    db.session.flush()
    history.run()
    click.echo("Candidatures de tuteurs, à chaque étape…")
    applications.seed_applications(rng, now)
    db.session.commit()
    _caseload_demo(referents)
    for model, label in ((TutoringRequest, "Demandes"), (Pair, "Binômes")):
        counts = db.session.execute(
            select(model.status, func.count()).group_by(model.status).order_by(model.status)
        ).all()
        labels: dict[Any, str] = (
            TUTORING_REQUEST_STATUS_LABELS if model is TutoringRequest else PAIR_STATUS_LABELS
        )
        click.echo(f"{label} : " + ", ".join(f"{labels[k].lower()} {n}" for k, n in counts))
    return True


#: The waiting list's demandes: no car, no remote meetings, in the communes farthest from every
#: tutor's, with a travel limit below that distance: no tutor fits them, so `flask run-reminders`
#: (`make setup`) leaves them on the waiting list.
WAITING_FARTHEST = 5


def _farthest(communes, tutor_profiles, by_code) -> list[tuple[float, Any]]:
    """The WAITING_FARTHEST communes farthest from every tutor's, with that distance in km."""
    spots = {
        (by_code[tp.commune_code].latitude, by_code[tp.commune_code].longitude)
        for tp in tutor_profiles
        if tp.commune_code in by_code
    }
    if not spots:
        return []
    lat = np.array([s[0] for s in spots])
    lon = np.array([s[1] for s in spots])
    scored = [
        (float(np.min(matching.haversine_km(c.latitude, c.longitude, lat, lon))), c.code_insee, c)
        for c in communes
    ]
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [(km, c) for km, _code, c in scored[:WAITING_FARTHEST]]


def _out_of_reach(profile, farthest: list[tuple[float, Any]]) -> None:
    """A waiting-list mentee of the demo lives where no tutor can meet her."""
    if not farthest:
        return
    km, place = farthest[profile.user_id % len(farthest)]  # spread, deterministic
    if km < 2:
        return
    profile.commune_code = place.code_insee
    profile.has_car = False
    profile.remote_ok = False
    profile.max_km = max(1, int(km) - 1)


def _caseload_demo(referents: list[User]) -> None:
    """Issue 14 in the demo, through the services: the last référent's caseload partly given to the
    one before (the admin's journal and the history show it), and the README's sample file sent by
    the demo référent, waiting for her to confirm its preview."""
    admin = db.session.scalars(select(User).where(User.email == "admin@example.org")).one()
    leaving, successor = referents[-1], referents[-2]
    moved = list(
        db.session.scalars(
            select(MenteeProfile.user_id)
            .where(MenteeProfile.referent_id == leaving.id)
            .order_by(MenteeProfile.user_id)
            .limit(5)
        )
    )
    first_email = (db.session.scalar(select(func.max(OutboxEmail.id))) or 0) + 1
    caseload.transfer(
        from_referent=leaving,
        to_referent=successor,
        actor=admin,
        mentee_ids=moved,
        reason="Réorganisation des secteurs (démonstration)",
    )
    # Its emails would have left at the time (as the story's, story.History.run).
    old = select(OutboxEmail.id).where(OutboxEmail.id >= first_email)
    db.session.execute(delete(OutboxEmailPerson).where(OutboxEmailPerson.email_id.in_(old)))
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.id >= first_email))
    imports.upload(
        SAMPLE_IMPORT.read_bytes(), SAMPLE_IMPORT.name, actor=referents[0], referent=referents[0]
    )
    db.session.commit()
    click.echo(
        f"Files actives : {len(moved)} bénéficiaires confiés à un autre référent ; "
        "un fichier d'import attend sa confirmation (referent@example.org)."
    )


__all__ = ["DEMO_EMAILS", "DEMO_PASSWORD", "seed_demo"]
