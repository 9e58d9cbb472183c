"""The demo population: ~300 mentees, 120 tutors, 6 référents over the real Gers communes and ROME codes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import click
from sqlalchemy import func, select

import matching
from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    Commune,
    Meeting,
    MenteeProfile,
    Pair,
    Request,
    Role,
    RomeMetier,
    TutorProfile,
    User,
)
from tutorat.services import accounts, suggestions, workflow

DEMO_PASSWORD = "Demo-Armagnac-2026"
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
MESSAGES = [
    "J'aimerais parler avec quelqu'un qui connaît le métier pour savoir par où commencer.",
    "Je voudrais de l'aide pour refaire mon CV et préparer mes entretiens.",
    "Je cherche du travail près de chez moi mais je n'ai pas de voiture.",
    "J'ai besoin de reprendre confiance après plusieurs années sans emploi.",
    "Je voudrais savoir comment concilier un emploi et la garde de mes enfants.",
]


# The longest a scenario's story can last after its demande is created, in days: the proposal
# (up to 10 days later), then two answers and the confirmation (a day each), then an answer or a
# withdrawal (up to 10 days) or, for an ended binôme, at least 30 days of meetings, plus one day.
STORY_DAYS = {
    "cancelled": 4,
    "proposed": 11,
    "tutor_accepted": 12,
    "mentee_accepted": 12,
    "accepted": 13,
    "active": 14,
    "ended": 44,
    "declined": 21,
    "expired": 21,
    "withdrawn": 21,
}


def _slots(rng: random.Random, n: int) -> int:
    return sum(1 << b for b in rng.sample(range(21), n))


def _phone(rng: random.Random) -> str:
    return "06 " + " ".join(f"{rng.randrange(100):02d}" for _ in range(4))


def seed_demo(seed: int = 32) -> bool:
    """Create the demo population once; returns False if it is already there."""
    if db.session.scalar(select(func.count()).where(User.email == "admin@example.org")):
        return False
    if not db.session.scalar(select(func.count()).select_from(Commune)):
        from tutorat.cli import load_reference_data

        load_reference_data()
    rng = random.Random(seed)
    now = datetime.now(UTC)
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
        user = User(
            role=role.value,
            email=email,
            first_name=first or rng.choice(FIRST_NAMES),
            last_name=last or rng.choice(LAST_NAMES),
            phone=_phone(rng),
            active=True,
            session_version=1,
            password_hash=password_hash if email else None,
            created_at=now - timedelta(days=rng.randint(60, 400)),
            consent_at=now,
            **kw,
        )
        db.session.add(user)
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
            profile = TutorProfile(
                user_id=user.id,
                commune_code=place.code_insee,
                metier_code="J1501" if demo else metier(),
                availability=(1 << 5) | (1 << 7) | (1 << 11) | (1 << 15)
                if demo
                else _slots(rng, rng.randint(2, 7)),
                has_car=has_car,
                max_km=40 if demo else (rng.choice([15, 20, 30, 40]) if has_car else 10),
                remote_ok=demo or rng.random() < 0.5,
                obstacles="mobilite,garde_enfants"
                if demo
                else ",".join(rng.sample(list(vocab.OBSTACLES), rng.randint(0, 2))),
                capacity=2 if demo else rng.choice([1, 1, 2, 2, 3]),
                places_used=0,
                experience_note="J'ai été au RSA pendant deux ans ; une formation d'aide-soignant m'a remis en selle."
                if demo
                else "",
                validated_at=None
                if (not demo and rng.random() < 0.08)
                else now - timedelta(days=200),
                completed_at=now - timedelta(days=200),
            )
            db.session.add(profile)
            tutors.append((user, profile))
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
                # Mardi soir, jeudi après-midi, samedi matin for the demo mentee.
                availability=(1 << 5) | (1 << 10) | (1 << 15)
                if demo
                else _slots(rng, rng.randint(2, 8)),
                has_car=has_car,
                max_km=30
                if demo
                else (rng.choice([15, 20, 30]) if has_car else rng.choice([5, 10, 15])),
                remote_ok=demo or rng.random() < 0.55,
                obstacles="mobilite,garde_enfants"
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
                completed_at=now - timedelta(days=rng.randint(20, 300)),
            )
            db.session.add(profile)
            mentees.append((user, profile))
    db.session.flush()

    # Statuses spread over the population (the demo mentee has no demande yet).
    scenarios = (
        ["none"] * 50
        + ["open"] * 60
        + ["cancelled"] * 10
        + ["proposed"] * 30
        + ["tutor_accepted"] * 14
        + ["mentee_accepted"] * 14
        + ["accepted"] * 10
        + ["active"] * 60
        + ["ended"] * 30
        + ["declined"] * 10
        + ["expired"] * 6
        + ["withdrawn"] * 5
    )
    rng.shuffle(scenarios)
    weights_used = suggestions.current_weights()
    tutor_values = {
        u.id: suggestions.tutor_values(p, by_code[p.commune_code])
        for u, p in tutors
        if p.validated_at is not None
    }

    def event(entity, obj_id, actor, at, frm, to, reason=""):
        # Through the workflow's check: an event dated in the future is refused.
        workflow.record_event(
            entity, obj_id, actor=actor, at=at, from_status=frm, to_status=to, reason=reason
        )

    demo_tutor_user, demo_tutor_profile = tutors[0]
    counts: dict[str, int] = {}
    with click.progressbar(
        list(enumerate(mentees[1:], start=1)), label="Demandes, binômes".ljust(16)
    ) as bar:
        for i, (user, profile) in bar:
            scenario = scenarios[(i - 1) % len(scenarios)]
            if i == 1:
                scenario = "active"  # the demo tutor's active binôme
                profile.remote_ok, profile.availability = True, profile.availability | (1 << 5)
            if scenario == "none":
                continue
            referent = profile.referent
            created = now - timedelta(days=rng.randint(2, 150), hours=rng.randint(0, 23))
            # The story must be over by now: early enough for every step that follows it.
            created = min(created, now - timedelta(days=STORY_DAYS.get(scenario, 0)))
            req = Request(
                mentee_id=user.id,
                created_by_id=user.id if user.email else referent.id,
                status="open",
                topics=",".join(rng.sample(list(vocab.TOPICS), rng.randint(1, 3))),
                meeting_modes=",".join(rng.sample(list(vocab.MEETING_MODES), rng.randint(1, 3))),
                message=rng.choice(MESSAGES),
                created_at=created,
                updated_at=created,
            )
            db.session.add(req)
            db.session.flush()
            event("demande", req.id, req.created_by, created, None, "open")
            if scenario in ("open", "cancelled"):
                if scenario == "cancelled":
                    req.status = "cancelled"
                    event(
                        "demande",
                        req.id,
                        referent,
                        created + timedelta(days=3),
                        "open",
                        "cancelled",
                        "La personne a trouvé un emploi seule.",
                    )
                counts[scenario] = counts.get(scenario, 0) + 1
                continue
            mentee_v = suggestions.mentee_values(profile, by_code[profile.commune_code])
            if i == 1:
                tutor_user, tutor_profile = demo_tutor_user, demo_tutor_profile
            else:
                pool = [
                    (u, p)
                    for u, p in tutors[1:]
                    if u.id in tutor_values and p.places_used < p.capacity
                ]
                values = [tutor_values[u.id] for u, _ in pool]
                top = (
                    matching.top_candidates(mentee_v, values, k=5, weights=weights_used)
                    if values
                    else []
                )
                if not top:
                    counts["open"] = counts.get("open", 0) + 1
                    continue
                tutor_user, tutor_profile = pool[rng.choice(top)[0]]
            explanation = matching.explain(
                mentee_v,
                suggestions.tutor_values(tutor_profile, by_code[tutor_profile.commune_code]),
                weights_used,
            )
            proposed_at = created + timedelta(days=rng.randint(1, 10))
            score = float(explanation.score) if explanation.feasible else None
            pair = Pair(
                request_id=req.id,
                mentee_id=user.id,
                tutor_id=tutor_user.id,
                proposed_by_id=referent.id,
                status="proposed",
                score=score,
                rank=1,
                candidates_count=None,
                explanation=suggestions.explanation_dict(explanation),
                weights=weights_used.to_dict(),
                algorithm_version=suggestions.ALGORITHM_VERSION,
                meeting_place=suggestions.meeting_place(
                    by_code[profile.commune_code], by_code[tutor_profile.commune_code]
                ),
                proposed_at=proposed_at,
                updated_at=proposed_at,
            )
            db.session.add(pair)
            db.session.flush()
            tutor_profile.last_asked_at = proposed_at
            event("binome", pair.id, referent, proposed_at, None, "proposed")
            event(
                "demande",
                req.id,
                referent,
                proposed_at,
                "open",
                "proposed",
                f"Binôme n° {pair.id} proposé",
            )
            req.status = "proposed"
            t = proposed_at
            live = scenario in (
                "proposed",
                "tutor_accepted",
                "mentee_accepted",
                "accepted",
                "active",
            )
            if scenario in ("tutor_accepted", "accepted", "active", "ended"):
                t += timedelta(days=1)
                pair.tutor_answer = "accepted"
                event("binome", pair.id, tutor_user, t, "proposed", "tutor_accepted")
                pair.status = "tutor_accepted"
            if scenario in ("mentee_accepted", "accepted", "active", "ended"):
                t += timedelta(days=1)
                pair.mentee_answer = "accepted"
                new = "accepted" if pair.status == "tutor_accepted" else "mentee_accepted"
                event("binome", pair.id, user if user.email else referent, t, pair.status, new)
                pair.status = new
            if scenario in ("active", "ended"):
                t += timedelta(days=1)
                event(
                    "binome",
                    pair.id,
                    referent,
                    t,
                    "accepted",
                    "active",
                    "Binôme confirmé par le référent",
                )
                event(
                    "demande",
                    req.id,
                    referent,
                    t,
                    "proposed",
                    "matched",
                    f"Binôme n° {pair.id} actif",
                )
                pair.status, req.status, pair.confirmed_at = "active", "matched", t
                last = min(now, t + timedelta(days=rng.randint(10, 120)))
                day = t.date()
                for _ in range(rng.randint(0, 6)):
                    day = day + timedelta(days=rng.randint(5, 20))
                    if day >= last.date() or day > date.today():
                        break
                    db.session.add(
                        Meeting(
                            pair_id=pair.id,
                            logged_by_id=tutor_user.id,
                            date=day,
                            duration_minutes=rng.choice([30, 45, 60, 90]),
                            mode=rng.choice(list(vocab.MEETING_MODES)),
                            place=pair.meeting_place,
                            topics=rng.choice(list(vocab.TOPICS)),
                            note="Bon échange.",
                            mentee_confirmation=rng.choice([None, "confirmed"]),
                        )
                    )
            if scenario == "ended":
                t = max(
                    t + timedelta(days=30), min(now - timedelta(days=1), t + timedelta(days=90))
                )
                pair.outcome = rng.choice(list(vocab.OUTCOMES))
                event(
                    "binome", pair.id, referent, t, "active", "ended", vocab.OUTCOMES[pair.outcome]
                )
                pair.status, pair.ended_at = "ended", t
                if pair.outcome in vocab.FAILED_OUTCOMES:
                    event(
                        "demande",
                        req.id,
                        referent,
                        t,
                        "matched",
                        "open",
                        "Nouvelle proposition à faire",
                    )
                    req.status = "open"
            if scenario in ("declined", "expired", "withdrawn"):
                t += timedelta(days=rng.randint(1, 10))
                actor = (
                    tutor_user
                    if scenario == "declined"
                    else (None if scenario == "expired" else referent)
                )
                if scenario == "declined":
                    pair.tutor_answer, pair.decline_reason = (
                        "declined",
                        rng.choice(list(vocab.DECLINE_REASONS)[:4]),
                    )
                event("binome", pair.id, actor, t, "proposed", scenario)
                event(
                    "demande",
                    req.id,
                    actor,
                    t,
                    "proposed",
                    "open",
                    f"Binôme n° {pair.id} {scenario}",
                )
                pair.status, req.status = scenario, "open"
            if live:
                tutor_profile.places_used += 1
            counts[scenario] = counts.get(scenario, 0) + 1
    db.session.flush()
    db.session.commit()
    click.echo("Statuts créés : " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return True


__all__ = ["DEMO_EMAILS", "DEMO_PASSWORD", "seed_demo"]
