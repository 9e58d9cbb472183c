"""Letters benchmark and snapshots (python -m bench.bench_letters).

On a fresh SQLite database: a person without email, with a postal address, goes through the
journey (proposal, reminder, answers, confirmation, a check-in, a pause by her tutor and its end,
the end of the binôme with a job) through the product's services; each
letter queued for her is rendered to PDF, and its first page to a PNG in docs/courriers/ (with the
explanation and the binôme sheet). Then 100 letters are rendered into one PDF, timed (target: under
20 s), and read back with pdftotext to check that each is there.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "docs" / "courriers"
TARGET_SECONDS = 20.0


def _png(pdf: bytes, name: str) -> Path:
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = SNAPSHOTS / name
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", f.name, str(out)],
            check=True,
        )
    return out.with_suffix(".png")


def main() -> int:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from tutorat import create_app
    from tutorat.extensions import db
    from tutorat.models import Letter, Role
    from tutorat.services import accounts, letters, transparency, voices
    from tutorat.services import pairs as pair_service
    from tutorat.services import requests as request_service
    from tutorat.services.notifications import queue_email
    from tutorat.services.reference import load_reference_data

    workdir = Path(tempfile.mkdtemp(prefix="bench-letters-"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'letters.sqlite3'}",
            "BASE_URL": "https://tutorat.gers.fr",
            "RATELIMIT_ENABLED": False,
        }
    )
    app.instance_path = str(workdir)
    with app.app_context():
        upgrade()
        load_reference_data()
        referent = accounts.create_user(
            role=Role.REFERENT,
            email="sophie.lamothe@gers.fr",
            first_name="Sophie",
            last_name="Lamothe",
            phone="05 62 67 40 40",
            password=None,
        )
        referent.organisation = "Maison départementale des Solidarités d'Auch"
        mentee = accounts.create_user(
            role=Role.MENTEE,
            email=None,
            first_name="Paulette",
            last_name="Dubarry",
            phone=None,
            password=None,
            referent=referent,
        )
        tutor = accounts.create_user(
            role=Role.TUTOR,
            email="marc.soubiran@exemple.fr",
            first_name="Marc",
            last_name="Soubiran",
            phone="06 12 34 56 78",
            password=None,
            capacity=2,
        )
        db.session.flush()
        for person, commune in ((mentee.mentee_profile, "32013"), (tutor.tutor_profile, "32307")):
            person.commune_code = commune
            person.availability = (1 << 5) | (1 << 15)
            person.remote_ok = True
        mentee.mentee_profile.target_metiers = "J1501"
        tutor.tutor_profile.metier_code = "J1501"
        tutor.tutor_profile.has_car = True
        tutor.tutor_profile.max_km = 30
        tutor.tutor_profile.validated_at = datetime.now(UTC)
        mentee.street_address = "4 chemin du Moulin"
        mentee.postal_code = "32000"
        mentee.contact_email = False
        mentee.contact_letter = True
        db.session.flush()
        tutoring_request = request_service.open_request(
            mentee,
            actor=referent,
            topics=["cv", "job_interview"],
            meeting_modes=["in_person"],
            message="Devenir aide-soignante.",
        )
        db.session.flush()
        pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
        queue_email("reminder", mentee, pair=pair, side=Role.MENTEE, days=3)
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        pair_service.answer(pair, side="mentee", accept=True, actor=referent)
        pair_service.confirm(pair, actor=referent)
        queue_email("checkin", mentee, pair=pair)  # as checkins.ask_due does after a meeting
        voices.pause(pair, actor=tutor, until=(datetime.now(UTC) + timedelta(days=14)).date())
        voices.resume(pair, actor=tutor)
        pair_service.end(pair, actor=referent, outcomes=["job"], contract="fixed_term")
        db.session.commit()
        made = []
        for letter in db.session.scalars(select(Letter).order_by(Letter.id)):
            made.append(_png(letters.render_pdf([letter]), f"courrier-{letter.kind}"))
        made.append(_png(transparency.explanation_pdf(pair, referent), "explication-referent"))
        made.append(_png(transparency.explanation_pdf(pair, mentee), "explication-beneficiaire"))
        made.append(_png(letters.pair_summary_pdf(pair, []), "fiche-binome"))
        for path in made:
            print(f"aperçu : {path.relative_to(ROOT)}")

        body = db.session.scalars(select(Letter)).first()
        batch = [
            letters.queue_letter("proposal_mentee", mentee, body.subject, body.body_text, set(), {})
            for _ in range(100)
        ]
        db.session.flush()
        started = time.perf_counter()
        pdf = letters.render_pdf(batch)
        elapsed = time.perf_counter() - started
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        found = sum(1 for letter in batch if letter.reference in text)
        pages = text.count("\f")
        db.session.rollback()
    print(
        f"100 courriers en un PDF : {elapsed:.1f} s (cible < {TARGET_SECONDS:.0f} s), "
        f"{len(pdf) / 1024:.0f} Kio, {pages} pages, {found} références relues par pdftotext"
    )
    return 0 if elapsed < TARGET_SECONDS and found == 100 else 1


if __name__ == "__main__":
    sys.exit(main())
