"""Tutor applications in the demo, at every stage, made through the vetting service with a simulated clock."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    ChecklistItem,
    OutboxEmail,
    OutboxEmailPerson,
    Role,
    TutorProfile,
    User,
)
from tutorat.services import vetting

# (first name, last name, commune, métier, days ago, what happens next)
PEOPLE = [
    ("Nadia", "Bernès", "32013", "J1501", 2, "new"),
    ("Karim", "Daudet", "32107", "K2204", 5, "new"),
    ("Élodie", "Castex", "32160", "N4101", 9, "new"),
    ("Thierry", "Lafforgue", "32208", "A1414", 16, "partial"),
    ("Sandrine", "Pujol", "32256", "D1507", 24, "partial"),
    ("Jérôme", "Abadie", "32013", "H2909", 34, "complete"),
    ("Martine", "Sarrade", "32147", "G1603", 40, "refused"),
    ("Hugo", "Dupouy", "32319", "K1304", 45, "validated"),
]
INVITED = [
    (
        "Céline",
        "Barrère",
        "Votre parcours depuis votre binôme m'a marqué : vous pourriez aider à votre tour.",
    ),
    ("Patrick", "Labat", ""),
]


def seed_applications(rng: random.Random, now: datetime) -> int:
    """Applications at each stage, and the checklist opened for tutors not yet validated.

    Their emails (acknowledgements, invitations, answers) would have left at the time: dropped,
    as `story.History.run` drops those of the simulated past.
    """
    first_email = (db.session.scalar(select(func.max(OutboxEmail.id))) or 0) + 1
    admin = db.session.scalars(select(User).where(User.email == "admin@example.org")).one()
    referent = db.session.scalars(select(User).where(User.email == "referent@example.org")).one()
    count = 0
    for first, last, commune, metier, days, stage in PEOPLE:
        at = now - timedelta(days=days, hours=rng.uniform(1, 8))
        slug = f"{first}.{last}".lower().replace("é", "e").replace("è", "e").replace("ç", "c")
        application = vetting.apply(
            vetting.ApplicationValues(
                first_name=first,
                last_name=last,
                email=f"candidat.{slug}@example.org",
                phone=f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                commune_code=commune,
                metier_code=metier,
                availability=sum(1 << b for b in rng.sample(range(21), rng.randint(2, 6))),
                capacity=rng.choice([1, 1, 2, 3]),
                has_car=rng.random() < 0.7,
                max_km=rng.choice([10, 20, 30]),
                remote_ok=rng.random() < 0.5,
                obstacles=rng.sample(sorted(vocab.OBSTACLES), 2),
                experience_note="Deux ans au RSA ; une formation m'a remis le pied à l'étrier.",
                charter_accepted=True,
                consent=True,
            ),
            now=at,
        )
        assert application is not None
        count += 1
        checked = at + timedelta(days=1)
        if stage in ("partial", "complete", "validated"):
            vetting.record_check(
                application, ChecklistItem.IDENTITY, checked.date(), actor=admin, now=checked
            )
            vetting.record_check(
                application, ChecklistItem.CRIMINAL_RECORD, checked.date(), actor=admin, now=checked
            )
        if stage in ("complete", "validated"):
            meeting = at + timedelta(days=7)
            vetting.record_check(
                application, ChecklistItem.INFO_MEETING, meeting.date(), actor=admin, now=meeting
            )
        if stage == "validated":
            vetting.validate(application, actor=admin, now=at + timedelta(days=8))
        if stage == "refused":
            vetting.refuse(
                application,
                "Nous ne recrutons pas de tuteurs dans votre métier pour le moment ; nous vous "
                "recontacterons si cela change.",
                actor=admin,
                now=at + timedelta(days=3),
            )
    for first, last, note in INVITED:
        slug = f"{first}.{last}".lower().replace("é", "e").replace("è", "e")
        vetting.suggest(
            referent=referent,
            first_name=first,
            last_name=last,
            email=f"invite.{slug}@example.org",
            note=note,
            now=now - timedelta(days=rng.randint(1, 10)),
        )
        count += 1
    # Tutors not yet validated go through the checklist too; validated ones accepted the charter.
    pending = db.session.scalars(
        select(User)
        .join(TutorProfile, TutorProfile.user_id == User.id)
        .where(User.role == Role.TUTOR, TutorProfile.validated_at.is_(None))
        .order_by(User.id)
    ).all()
    for tutor in pending:
        vetting.open_for_account(tutor, actor=admin, now=now - timedelta(days=rng.randint(1, 20)))
        count += 1
    for tutor in db.session.scalars(
        select(User)
        .join(TutorProfile, TutorProfile.user_id == User.id)
        .where(User.role == Role.TUTOR, TutorProfile.validated_at.is_not(None))
        .order_by(User.id)
    ):
        vetting.accept_charter(tutor, now=now - timedelta(days=rng.randint(20, 200)))
    past = select(OutboxEmail.id).where(OutboxEmail.id >= first_email)
    db.session.execute(delete(OutboxEmailPerson).where(OutboxEmailPerson.email_id.in_(past)))
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.id >= first_email))
    db.session.flush()
    return count


__all__ = ["seed_applications"]
