"""A gunicorn worker killed (SIGKILL) in the middle of writes leaves no partial data (python -m bench.kill_worker).

On a fresh database (a temporary SQLite file, and PostgreSQL), gunicorn serves the application
with 2 workers while a few référents propose tutors and withdraw the proposals as fast as they
can: each of these is a multi-row write (the binôme, the tutor's places, the demande's status,
two status events, two emails). Meanwhile a worker is killed with SIGKILL, several times. After
each kill the script measures how long `/sante` takes to answer again; at the end it checks the
invariants: every binôme and demande has its creation event and the status of its last event,
places used equal the live binômes of each tutor, never above capacity, one live binôme and one
open demande per mentee, and two emails per proposal (written in the same transaction).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "Une-phrase-de-passe-solide-2026"
PG_URL = os.environ.get("KILL_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/tutorat_kill")


@dataclass
class Report:
    url: str
    kills: int = 0
    cut: int = 0  # requests in flight when their worker died (connection reset)
    cut_writes: int = 0  # of which writes (POST): killed in the middle of a multi-row write
    writes: int = 0  # proposals and withdrawals that succeeded
    recovery: list[float] = field(default_factory=list)  # seconds until /sante answered again
    violations: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            not any(self.violations.values())
            and self.cut_writes > 0
            and max(self.recovery or [99]) < 5
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    dbname = urllib.parse.urlparse(url.replace("+psycopg", "")).path.lstrip("/")
    admin = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')


def _app(url: str):
    from tutorat import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REQUEST_LOG": False})


def prepare(url: str, referents: int, mentees: int, tutors: int) -> list[str]:
    """Migrate, load the communes and ROME, create people with open demandes; the référents' emails."""
    from datetime import UTC, datetime

    from flask_migrate import upgrade

    from tutorat.extensions import db
    from tutorat.models import MenteeProfile, Role, TutorProfile
    from tutorat.services import accounts
    from tutorat.services import requests as request_service
    from tutorat.services.reference import load_reference_data

    fresh_database(url)
    app = _app(url)
    emails = []
    with app.app_context():
        upgrade()
        load_reference_data()
        now = datetime.now(UTC)
        refs = []
        for r in range(referents):
            refs.append(
                accounts.create_user(
                    role=Role.REFERENT,
                    email=f"referent{r}@kill.example.org",
                    first_name="Référent",
                    last_name=f"N{r}",
                    password=PASSWORD,
                )
            )
            emails.append(refs[-1].email)
        for t in range(tutors):
            user = accounts.create_user(
                role=Role.TUTOR,
                email=f"tuteur{t}@kill.example.org",
                first_name="Tuteur",
                last_name=f"N{t}",
                capacity=3,
            )
            profile = db.session.get(TutorProfile, user.id)
            profile.commune_code, profile.metier_code, profile.availability = (
                "32013",
                "J1501",
                0b111111,
            )
            profile.has_car, profile.max_km, profile.remote_ok = True, 30, True
            profile.validated_at = profile.completed_at = now
        for m in range(mentees):
            user = accounts.create_user(
                role=Role.MENTEE,
                email=f"beneficiaire{m}@kill.example.org",
                first_name="Bénéficiaire",
                last_name=f"N{m}",
                referent=refs[m % referents],
            )
            profile = db.session.get(MenteeProfile, user.id)
            profile.commune_code, profile.target_metiers, profile.availability = (
                "32013",
                "J1501",
                0b111111,
            )
            profile.remote_ok, profile.completed_at = True, now
            db.session.flush()
            request_service.open_request(
                user,
                actor=refs[m % referents],
                topics=["cv"],
                meeting_modes=["video"],
                message="Bonjour",
            )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return emails


def check(url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from tutorat.demo.scale import invariant_violations
    from tutorat.extensions import db
    from tutorat.models import OutboxEmail, Pair

    app = _app(url)
    with app.app_context():
        out = invariant_violations()
        pairs = db.session.scalar(select(func.count()).select_from(Pair)) or 0
        emails = (
            db.session.scalar(
                select(func.count())
                .select_from(OutboxEmail)
                .where(OutboxEmail.kind.in_(("proposal_tutor", "proposal_mentee")))
            )
            or 0
        )
        out["courriels de proposition manquants ou en trop"] = abs(emails - 2 * pairs)
        db.session.remove()
        db.engine.dispose()
    return out


class Client:
    """A browser-like session on one référent's account (a new connection per request, like a reload)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        self.token = ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode({"csrf_token": self.token, **form})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for name, value in response.getheaders():
                if name.lower() == "set-cookie" and value.startswith("session="):
                    self.cookie = value.split(";", 1)[0]
            return response.status, response.getheader("Location") or "", text
        finally:
            conn.close()

    def login(self, email: str) -> None:
        _, _, html = self.request("GET", "/connexion")
        self.token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        status, _, _ = self.request("POST", "/connexion", {"email": email, "password": PASSWORD})
        assert status == 302, f"connexion refusée ({status})"
        _, _, html = self.request("GET", "/referent/")
        self.token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def writer(
    port: int, email: str, stop: threading.Event, report: Report, lock: threading.Lock
) -> None:
    client = Client(port)
    while not stop.is_set():
        try:
            client.login(email)
            break
        except (OSError, http.client.HTTPException, AttributeError):
            time.sleep(0.1)
    rng = random.Random(email)
    while not stop.is_set():
        writing = False
        try:
            _, _, html = client.request("GET", "/referent/?statut=demandes")
            ids = re.findall(r'href="/referent/demandes/(\d+)"', html)
            if not ids:
                time.sleep(0.05)
                continue
            request_id = rng.choice(ids)
            _, _, page = client.request("GET", f"/referent/demandes/{request_id}")
            tutors = re.findall(r'name="tutor_id" value="(\d+)"', page)
            if not tutors:
                continue
            writing = True
            status, location, _ = client.request(
                "POST",
                f"/referent/demandes/{request_id}/proposer",
                {"tutor_id": rng.choice(tutors)},
            )
            if status == 302 and "/binomes/" in location:
                with lock:
                    report.writes += 1
                pair_path = urllib.parse.urlparse(location).path
                status, _, _ = client.request("POST", pair_path + "/retirer", {})
                if status == 302:
                    with lock:
                        report.writes += 1
        except (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead):
            with lock:
                report.cut += 1  # the worker died with this request in flight
                report.cut_writes += writing
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)


def _health(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/sante")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _workers(master: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True
    ).stdout
    return [int(x) for x in out.split()]


@contextmanager
def gunicorn(url: str, port: int, log: Path):
    env = dict(
        os.environ,
        DATABASE_URL=url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_WORKER_CLASS="sync",
        GUNICORN_LOGLEVEL="warning",
        REQUEST_LOG="0",
        PYTHONPATH=str(ROOT),
        TUTORAT_INSTANCE_PATH=str(log.parent),
    )
    env.pop("TUTORAT_ENV", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.time() + 60
            while not _health(port):
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"gunicorn ne démarre pas : voir {log}")
                time.sleep(0.1)
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def run(
    url: str,
    *,
    kills: int = 6,
    referents: int = 4,
    mentees: int = 80,
    tutors: int = 20,
    workdir: Path | None = None,
    echo=print,
) -> Report:
    report = Report(url)
    emails = prepare(url, referents, mentees, tutors)
    workdir = workdir or Path(tempfile.mkdtemp(prefix="tutorat-kill-"))
    port = free_port()
    rng = random.Random(7)
    with gunicorn(url, port, workdir / "gunicorn.log") as proc:
        stop = threading.Event()
        lock = threading.Lock()
        threads = [
            threading.Thread(target=writer, args=(port, e, stop, report, lock), daemon=True)
            for e in emails
        ]
        for t in threads:
            t.start()
        time.sleep(2.0)  # the writers are logged in and writing
        # At least `kills` kills, and more (up to three times as many) until one cut a write.
        while report.kills < kills or (report.cut_writes == 0 and report.kills < 3 * kills):
            time.sleep(rng.uniform(0.3, 0.9))
            victims = _workers(proc.pid)
            if not victims:
                continue
            os.kill(rng.choice(victims), signal.SIGKILL)
            killed_at = time.perf_counter()
            report.kills += 1
            time.sleep(0.02)
            while not _health(port):
                if time.perf_counter() - killed_at > 30:
                    break
                time.sleep(0.02)
            report.recovery.append(time.perf_counter() - killed_at)
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join(timeout=35)
    report.violations = check(url)
    echo(
        f"{url} : {report.kills} workers tués (SIGKILL) pendant {report.writes} écritures réussies, "
        f"{report.cut} requêtes coupées en vol, dont {report.cut_writes} écritures ; "
        "/sante répond de nouveau en " + ", ".join(f"{s:.2f}" for s in report.recovery) + " s"
    )
    for rule, n in report.violations.items():
        echo(f"  {rule} : {n}")
    echo(
        "  résultat : "
        + ("aucune donnée partielle, service revenu en quelques secondes" if report.ok else "ÉCHEC")
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--kills", type=int, default=6)
    args = parser.parse_args(argv)
    urls = []
    if args.db in ("sqlite", "both"):
        urls.append(f"sqlite:///{Path(tempfile.mkdtemp(prefix='tutorat-kill-')) / 'kill.sqlite3'}")
    if args.db in ("postgresql", "both"):
        urls.append(PG_URL)
    ok = True
    for url in urls:
        ok &= run(url, kills=args.kills).ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
