"""Reminders benchmark (python -m bench.bench_reminders): `flask run-reminders` at the Gers scale.

On the Gers-sized database of the web benchmark (`flask seed-demo --scale gers`, made on the first
run: 10,000 bénéficiaires, 8,000 binômes, about 900 of them waiting for an answer), with the clock
moved 1.25 days ahead (so that about 600 proposals are due for a reminder and about 50 expire, as in
the report of issue 11: 577 and 52), on SQLite and on PostgreSQL (`BENCH_PG_URL`):

1. the reference, measured in the same run: the per-pair loop as it was before the batch (one
   transaction per pair, each pair read, changed and its emails queued one by one);
2. the batch, `tutorat.services.followup.run_reminders` (set-based, a chunk per transaction);
3. the batch again on the same data: nothing left to do, not one email more.

Each of 1 and 2 starts from its own fresh copy of the database, and their results are checked
identical: every binôme's status, reminders and reason, every demande's status, every tutor's
places, the new status events (entity, from, to, reason) and the emails (kind, recipient).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.bench_web import ROOT, SQLITE_PATH, ensure_database

PG_URL = os.environ.get(
    "BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/tutorat_bench"
)
WORK_SQLITE = SQLITE_PATH.parent / "reminders-work.sqlite3"
TARGET_SECONDS = 30.0
SHIFT = timedelta(days=1.25)


def _say(text: str) -> None:
    print(text, flush=True)


# --- The reference: the per-pair loop of `run_reminders` as it was before the batch (issue 11). ---


def _reference_bump(pair, to: int) -> bool:
    from sqlalchemy import update

    from tutorat.extensions import db
    from tutorat.models import Pair

    result = db.session.execute(
        update(Pair)
        .where(Pair.id == pair.id, Pair.reminders_sent < to)
        .values(reminders_sent=to)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        pair.reminders_sent = to
        return True
    return False


def _reference_expire(pair) -> None:
    from flask import current_app

    from tutorat import vocab
    from tutorat.services import pairs as pair_service
    from tutorat.services.notifications import queue_email
    from tutorat.services.workflow import transition

    code, label = vocab.EXPIRY_REASON
    expiry_days = current_app.config["PROPOSAL_EXPIRY_DAYS"]
    transition(pair, "expired", actor=None, reason=f"{label} ({expiry_days} jours)")
    pair.decline_reason = code
    pair_service._free_place(pair.tutor_id)
    transition(pair.request, "open", actor=None, reason=f"Binôme n° {pair.id} expiré sans réponse")
    referent = pair.mentee.mentee_profile.referent
    for side, person in (("referent", referent), ("tutor", pair.tutor), ("mentee", pair.mentee)):
        queue_email(
            "expired",
            person,
            pair=pair,
            side=side,
            expiry_days=expiry_days,
        )


def reference_run_reminders(now: datetime) -> dict[str, int]:
    """The per-pair loop, as `flask run-reminders` ran it before the batch."""
    from flask import current_app
    from sqlalchemy import select

    from tutorat.extensions import db
    from tutorat.models import Pair
    from tutorat.models.pairs import UNANSWERED_PAIR_STATUSES as UNANSWERED
    from tutorat.services.errors import Conflict
    from tutorat.services.followup import _waiting_for
    from tutorat.services.notifications import queue_email

    first, second = current_app.config["REMINDER_DAYS"]
    expiry_days = current_app.config["PROPOSAL_EXPIRY_DAYS"]
    report = {"rappels": 0, "expirées": 0}
    pair_ids = db.session.scalars(
        select(Pair.id)
        .where(Pair.status.in_(UNANSWERED), Pair.proposed_at <= now - timedelta(days=first))
        .order_by(Pair.id)
    ).all()
    for pair_id in pair_ids:
        pair = db.session.get(Pair, pair_id)
        if pair is None or pair.status not in UNANSWERED:
            continue
        age = now - pair.proposed_at
        try:
            if age >= timedelta(days=expiry_days):
                _reference_expire(pair)
                report["expirées"] += 1
            else:
                number = 2 if age >= timedelta(days=second) else 1
                if _reference_bump(pair, number):
                    for side, person in _waiting_for(pair):
                        queue_email(
                            "reminder",
                            person,
                            pair=pair,
                            side=side,
                            days=age.days,
                            expiry_days=expiry_days,
                        )
                    report["rappels"] += 1
            db.session.commit()
        except Conflict:
            db.session.rollback()
    return report


# --- Fresh copies of the database, one per measurement. ---


def _pg_names(url: str) -> tuple[str, str]:
    dbname = urllib.parse.urlparse(url.replace("+psycopg", "")).path.lstrip("/")
    admin = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    return dbname, admin


def fresh_copy(url: str) -> str:
    """A copy of the Gers database that a measurement may change; its URL."""
    if url.startswith("postgresql"):
        import psycopg

        dbname, admin = _pg_names(url)
        work = f"{dbname}_reminders"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{work}"')
            conn.execute(f'CREATE DATABASE "{work}" TEMPLATE "{dbname}"')
        return url.rsplit("/", 1)[0] + "/" + work
    WORK_SQLITE.unlink(missing_ok=True)
    source = sqlite3.connect(SQLITE_PATH)
    target = sqlite3.connect(WORK_SQLITE)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{WORK_SQLITE}"


def drop_copy(url: str) -> None:
    if url.startswith("postgresql"):
        import psycopg

        dbname, admin = _pg_names(url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}_reminders"')
    else:
        for suffix in ("", "-wal", "-shm"):
            WORK_SQLITE.with_name(WORK_SQLITE.name + suffix).unlink(missing_ok=True)


def _app(url: str):
    from tutorat import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-reminders",
            "BASE_URL": "https://tutorat.example.org",
        }
    )


def fingerprint(since_event: int, since_email: int) -> dict[str, Any]:
    """What a run changed, to check that the reference and the batch did the same thing."""
    from sqlalchemy import select

    from tutorat.extensions import db
    from tutorat.models import OutboxEmail, Pair, StatusEvent, TutoringRequest, TutorProfile

    s = db.session
    return {
        "binômes": s.execute(
            select(Pair.id, Pair.status, Pair.reminders_sent, Pair.decline_reason).order_by(Pair.id)
        ).all(),
        "demandes": s.execute(
            select(TutoringRequest.id, TutoringRequest.status).order_by(TutoringRequest.id)
        ).all(),
        "places": s.execute(
            select(TutorProfile.user_id, TutorProfile.places_used).order_by(TutorProfile.user_id)
        ).all(),
        "événements": Counter(
            s.execute(
                select(
                    StatusEvent.entity,
                    StatusEvent.entity_id,
                    StatusEvent.from_status,
                    StatusEvent.to_status,
                    StatusEvent.reason,
                ).where(StatusEvent.id > since_event)
            ).all()
        ),
        "courriels": Counter(
            s.execute(
                select(OutboxEmail.kind, OutboxEmail.recipient).where(OutboxEmail.id > since_email)
            ).all()
        ),
    }


def measure(
    url: str, run: Callable[[datetime], dict[str, int]], now: datetime, *, again: bool = False
) -> tuple[float, dict[str, int], dict[str, Any], tuple[float, dict[str, int]] | None]:
    """Run `run(now)` on `url`; (seconds, its report, what changed, the second run if `again`)."""
    from sqlalchemy import func, select

    from tutorat.extensions import db
    from tutorat.models import OutboxEmail, StatusEvent

    app = _app(url)
    with app.app_context():
        since_event = db.session.scalar(select(func.max(StatusEvent.id))) or 0
        since_email = db.session.scalar(select(func.max(OutboxEmail.id))) or 0
        db.session.commit()
        start = time.perf_counter()
        report = run(now)
        seconds = time.perf_counter() - start
        second = None
        if again:
            start = time.perf_counter()
            report_again = run(now)
            second = (time.perf_counter() - start, report_again)
        changed = fingerprint(since_event, since_email)
        db.session.remove()
        db.engine.dispose()
    return seconds, report, changed, second


def run_backend(name: str, url: str, now: datetime) -> dict[str, Any]:
    from tutorat.services.followup import run_reminders

    built = ensure_database(url)
    if built is not None:
        _say(f"  base construite en {built:.0f} s")
    _say(f"{name} : référence (boucle binôme par binôme, une transaction chacun)…")
    ref_url = fresh_copy(url)
    ref_s, ref_report, ref_changed, _ = measure(ref_url, reference_run_reminders, now)
    drop_copy(url)
    _say(f"  {ref_s:.1f} s : {ref_report}")
    _say(f"{name} : traitement groupé (tutorat.services.followup.run_reminders), deux fois…")
    batch_url = fresh_copy(url)
    batch_s, batch_report, batch_changed, second = measure(
        batch_url, run_reminders, now, again=True
    )
    drop_copy(url)
    assert second is not None
    _say(f"  {batch_s:.2f} s : {batch_report} ; à nouveau : {second[0]:.2f} s : {second[1]}")
    same = ref_report == batch_report and ref_changed == batch_changed
    if not same:
        for key in ref_changed:
            if ref_changed[key] != batch_changed[key]:
                _say(f"  DIFFÉRENCE : {key}")
    emails = sum(batch_changed["courriels"].values())
    events = sum(batch_changed["événements"].values())
    return {
        "base": name,
        "référence": ref_s,
        "groupé": batch_s,
        "à nouveau": second[0],
        "rapport": batch_report,
        "rapport à nouveau": second[1],
        "courriels": emails,
        "événements": events,
        "identiques": same,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    now = datetime.now(UTC) + SHIFT
    _say(
        f"Horloge avancée de {SHIFT.total_seconds() / 86400:g} jour : maintenant = {now:%d/%m/%Y %H:%M} UTC"
    )
    backends = []
    if args.db in ("both", "postgresql"):
        backends.append(("PostgreSQL", PG_URL))
    if args.db in ("both", "sqlite"):
        backends.append(("SQLite", f"sqlite:///{SQLITE_PATH}"))
    results = [run_backend(name, url, now) for name, url in backends]
    ok = True
    _say("")
    _say(
        "| Base | Rappels | Expirées | Courriels | Événements | Référence (par binôme) | Groupé | Rapport | 2e passage | Résultats identiques |"
    )
    _say("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        ratio = r["référence"] / r["groupé"] if r["groupé"] else float("inf")
        idle = r["rapport à nouveau"] == {"rappels": 0, "expirées": 0}
        _say(
            f"| {r['base']} | {r['rapport']['rappels']} | {r['rapport']['expirées']} | "
            f"{r['courriels']} | {r['événements']} | {r['référence']:.1f} s | "
            f"**{r['groupé']:.2f} s** | × {ratio:.0f} | {r['à nouveau']:.2f} s, "
            f"{'rien à faire' if idle else r['rapport à nouveau']} | "
            f"{'oui' if r['identiques'] else 'NON'} |"
        )
        ok = ok and r["identiques"] and idle and r["groupé"] < TARGET_SECONDS
    _say("")
    _say(
        f"Objectif : moins de {TARGET_SECONDS:.0f} s à l'échelle du Gers, mêmes résultats que la "
        f"référence, un deuxième passage sans effet : {'atteint' if ok else 'NON ATTEINT'}."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
