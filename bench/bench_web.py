"""Web benchmark (python -m bench.bench_web): Tutorat's pages under gunicorn, loaded by wrk on loopback.

For each database (PostgreSQL, SQLite) holding a Gers-sized population (`flask seed-demo --scale
gers`, made on the first run), gunicorn serves the application with 2 workers, and wrk (16
connections) requests, logged in as a référent: the candidate list of a demande, the dashboard,
a binôme page and the indicators page. Two reference pages are measured in the same run, by the
same gunicorn settings and the same database: a bare Flask "hello" and a Flask-SQLAlchemy page
reading 20 rows into a template (bench/reference_app.py). Printed: requests/s, p50/p99 latency,
each page's ratio to the references, and the memory of each worker. Both servers stay up, and each
page is measured in short rounds alternating with the "20 rows" page (`--rounds`, 2 s each by
default): on a shared machine whose speed drifts within a run, and where other work comes in bursts,
the page and its reference then share the same moments. A page's req/s and its neighbour's are their
requests over their seconds in all rounds; its p99 is the median of its rounds' p99 (the worst round's
is printed beside it: a burst of other work on the machine shows there, in the reference's too).

No page is kept anywhere: every request renders its page from the database (the only thing a
worker keeps is the tutors' pool for the ranking, refreshed by database triggers). The target,
per page: at least a quarter of the same run's "20 rows" req/s, p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().parent / "wrk_session.lua"
PG_URL = os.environ.get(
    "BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/tutorat_bench"
)
SQLITE_PATH = ROOT / "instance" / "bench" / "gers.sqlite3"
REFERENT = "referent@example.org"
PASSWORD = "Demo-Armagnac-2026"
USER_AGENT = "tutorat-bench/1"  # sent by the login and by wrk, as one browser would
TARGET_P99_MS = 100
# A quarter of the "20 rows" reference page's req/s: the machine is shared and its speed varies
# from one minute to the next; this ratio, measured in the same run, does not.
TARGET_RATIO = 0.25
TARGET_RSS_MB = 250


@dataclass
class Result:
    page: str
    rps: float
    p50_ms: float
    p99_ms: float
    non200: int
    errors: int
    kb: float  # mean response size
    requests: int = 0
    seconds: float = 0.0
    # The "20 rows" reference measured in turns with this page (the machine's speed drifts over a
    # run when it is shared): the page's ratio is taken to it.
    beside: float | None = None
    worst_p99_ms: float | None = None  # the worst round's p99 (rounds measured in turns)
    beside_worst_p99_ms: float | None = None  # the reference's worst round, in the same turns
    # CPU milliseconds the workers spent per request, the page's and its reference's (what the
    # machine's other work changes least; the database server's own work is not counted).
    cpu_ms: float | None = None
    beside_cpu_ms: float | None = None


def _say(text: str) -> None:
    print(text, flush=True)


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUTORAT_ENV", "GUNICORN_"))}
    env.update(
        DATABASE_URL=url,
        TUTORAT_INSTANCE_PATH=str(SQLITE_PATH.parent),
        PYTHONPATH=str(ROOT),
        # A real configuration: rate limits on, the JSON request log written (to a file).
        REQUEST_LOG="1",
    )
    env.update(extra)
    return env


def _flask(url: str, *args: str) -> None:
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=_env(url), check=True
    )


def _count_mentees(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return (
                conn.execute(
                    text("SELECT count(*) FROM user_account WHERE role = 'mentee'")
                ).scalar()
                or 0
            )
    except Exception:
        return 0
    finally:
        engine.dispose()


def ensure_database(url: str) -> float | None:
    """Migrate and, the first time, seed the Gers-sized population; the seconds it took, if it did."""
    if url.startswith("postgresql"):
        import psycopg

        dbname = urllib.parse.urlparse(url.replace("+psycopg", "")).path.lstrip("/")
        conninfo = (
            url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
        )
        with psycopg.connect(conninfo, autocommit=True) as conn:
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
            ).fetchone():
                conn.execute(f'CREATE DATABASE "{dbname}"')
    else:
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    _flask(url, "db", "upgrade")
    if _count_mentees(url) >= 10_000:
        return None
    _say(f"Population à l'échelle du Gers, une seule fois, dans {url} :")
    start = time.perf_counter()
    _flask(url, "seed-demo", "--scale", "gers")
    return time.perf_counter() - start


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except Exception:
        return 0


@contextmanager
def gunicorn(
    app: str,
    url: str,
    port: int,
    workers: int,
    worker_class: str,
    log: Path,
    health: str,
    **extra_env: str,
):
    env = _env(
        url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
        GUNICORN_WORKER_CLASS=worker_class,
        GUNICORN_LOGLEVEL="warning",
        **extra_env,
    )
    # gunicorn.conf.py asks for 4 threads (production: gthread), and gunicorn turns a "sync" worker
    # with more than one thread into gthread: "sync" is one thread, for real. (With gthread, wrk's
    # 16 kept-alive connections stay with the worker that accepted them: at random, one worker of
    # the two took nearly all of them, and a page then ran at half its speed for a whole run.)
    env["GUNICORN_THREADS"] = "4" if worker_class == "gthread" else "1"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), app],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.time() + 60
            while _get(f"http://127.0.0.1:{port}{health}") != 200:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"gunicorn ne démarre pas ({app}) : voir {log}")
                time.sleep(0.2)
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def login(base: str) -> str:
    """The Cookie header of a logged-in référent."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [
        ("User-Agent", USER_AGENT)
    ]  # the one wrk then sends (a browser keeps its own)
    html = opener.open(f"{base}/connexion").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token, "pas de jeton CSRF sur la page de connexion"
    data = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "email": REFERENT, "password": PASSWORD}
    )
    page = opener.open(f"{base}/connexion", data=data.encode()).read().decode()
    assert "Déconnexion" in page or "déconnecter" in page.lower() or "Tableau de bord" in page, (
        "connexion refusée"
    )
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def pick_paths(url: str) -> dict[str, list[str]]:
    """The pages to load: the référent's open demandes and active binômes (cycled through)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        referent = conn.execute(
            text("SELECT id FROM user_account WHERE email = :e"), {"e": REFERENT}
        ).scalar()
        requests_ = (
            conn.execute(
                text(
                    "SELECT r.id FROM tutoring_request r JOIN mentee_profile m ON m.user_id = r.mentee_id "
                    "WHERE m.referent_id = :r AND r.status = 'open' AND m.commune_code IS NOT NULL "
                    "AND m.target_metiers <> '' AND m.availability > 0 ORDER BY r.id"
                ),
                {"r": referent},
            )
            .scalars()
            .all()
        )
        pairs = (
            conn.execute(
                text(
                    "SELECT p.id FROM pair p JOIN mentee_profile m ON m.user_id = p.mentee_id "
                    "WHERE m.referent_id = :r AND p.status = 'active' ORDER BY p.id"
                ),
                {"r": referent},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    return {
        "demande : tuteurs classés": [f"/referent/demandes/{i}" for i in requests_],
        "tableau de bord": ["/referent/"],
        "binôme": [f"/referent/binomes/{i}" for i in pairs],
        "indicateurs": ["/indicateurs/"],
    }


def wrk(
    base: str,
    paths: list[str],
    cookie: str,
    seconds: float,
    connections: int,
    threads: int,
    page: str,
) -> Result:
    env = dict(
        os.environ, TUTORAT_COOKIE=cookie, TUTORAT_PATHS=",".join(paths), TUTORAT_UA=USER_AGENT
    )
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(int(seconds), 1)}s",
            "--timeout",
            "5s",
            "-s",
            str(LUA),
            base + paths[0],
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in reversed(out.splitlines()) if x.startswith("{"))
    data = json.loads(line)
    rps = data["requests"] / (data["duration_us"] / 1e6)
    errors = data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
    kb = data["bytes"] / max(data["requests"], 1) / 1024
    return Result(
        page,
        rps,
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
        data["non200"],
        errors,
        kb,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
    )


def workers_cpu(master: int) -> float:
    """The CPU seconds (user and system) used so far by the workers of a gunicorn master."""
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True
    ).stdout
    ticks = 0
    for pid in (int(x) for x in children.split()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def in_turns(
    base: str,
    page: str,
    paths: list[str],
    cookie: str,
    ref_base: str,
    masters: tuple[int, int],
    args,
) -> Result:
    """A page measured in `args.rounds` rounds, each after a round of the "20 rows" reference:
    req/s over all rounds, p50 and p99 the median of the rounds' (the worst p99 kept too), and the
    CPU time the workers of each server spent per request (`masters`: the page's, the reference's)."""
    seconds = max(args.duration / args.rounds, 1)
    wrk(ref_base, ["/rows"], "", args.warmup, args.connections, args.threads, "chauffe")
    wrk(base, paths, cookie, args.warmup, args.connections, args.threads, page)  # warm up
    pages: list[Result] = []
    references: list[Result] = []
    cpu = {"page": 0.0, "reference": 0.0}

    def timed(kind: str, master: int, run) -> Result:
        before = workers_cpu(master)
        result = run()
        cpu[kind] += workers_cpu(master) - before
        return result

    for _ in range(args.rounds):
        references.append(
            timed(
                "reference",
                masters[1],
                lambda: wrk(
                    ref_base, ["/rows"], "", seconds, args.connections, args.threads, "voisine"
                ),
            )
        )
        pages.append(
            timed(
                "page",
                masters[0],
                lambda: wrk(base, paths, cookie, seconds, args.connections, args.threads, page),
            )
        )

    def median(values: list[float]) -> float:
        return statistics.median(values)

    return Result(
        page,
        rps=sum(r.requests for r in pages) / sum(r.seconds for r in pages),
        p50_ms=median([r.p50_ms for r in pages]),
        p99_ms=median([r.p99_ms for r in pages]),
        non200=sum(r.non200 for r in pages),
        errors=sum(r.errors for r in pages),
        kb=median([r.kb for r in pages]),
        beside=sum(r.requests for r in references) / sum(r.seconds for r in references),
        worst_p99_ms=max(r.p99_ms for r in pages),
        beside_worst_p99_ms=max(r.p99_ms for r in references),
        cpu_ms=cpu["page"] * 1000 / max(sum(r.requests for r in pages), 1),
        beside_cpu_ms=cpu["reference"] * 1000 / max(sum(r.requests for r in references), 1),
    )


def worker_memory(master: int) -> list[tuple[int, float, float]]:
    """(pid, RSS MB, PSS MB) of each worker: PSS shares the pages inherited from the master fairly."""
    out = []
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True
    ).stdout
    for pid in (int(x) for x in children.split()):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            pss = int(re.search(r"Pss:\s+(\d+)", rollup).group(1)) / 1024
        except (OSError, AttributeError):
            continue
        out.append((pid, rss, pss))
    return out


def run_backend(name: str, url: str, args) -> tuple[list[Result], list[tuple[int, float, float]]]:
    seeded = ensure_database(url)
    if seeded is not None:
        _say(f"  population créée en {seeded:.0f} s")
    logs = ROOT / "instance" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    port = args.port

    def measure(base: str, page: str, paths: list[str], cookie: str = "") -> None:
        wrk(base, paths, cookie, args.warmup, args.connections, args.threads, page)  # warm up
        result = wrk(base, paths, cookie, args.duration, args.connections, args.threads, page)
        results.append(result)
        _say(
            f"  {page:<28} {result.rps:8.0f} req/s   p50 {result.p50_ms:6.1f} ms   p99 {result.p99_ms:6.1f} ms"
        )

    def tutorat(log: str, **env: str):
        return gunicorn(
            "wsgi:app", url, port, args.workers, args.worker_class, logs / log, "/sante", **env
        )

    reference = gunicorn(
        "bench.reference_app:app",
        url,
        port + 1,
        args.workers,
        args.worker_class,
        logs / f"reference-{name}.log",
        "/hello",
    )
    # Both servers stay up: before each page, the "20 rows" reference is measured again (half the
    # time), and the page's ratio is taken to that neighbour rather than to a figure minutes old.
    with reference as reference_proc, tutorat(f"tutorat-{name}.log") as proc:
        ref_base = f"http://127.0.0.1:{port + 1}"
        measure(ref_base, "référence : hello", ["/hello"])
        measure(ref_base, "référence : 20 lignes", ["/rows"])
        base = f"http://127.0.0.1:{port}"
        measure(base, "santé (/sante)", ["/sante"])
        cookie = login(base)
        pages = {page: paths for page, paths in pick_paths(url).items() if paths}
        for page, paths in pages.items():
            masters = (proc.pid, reference_proc.pid)
            results.append(in_turns(base, page, paths, cookie, ref_base, masters, args))
            result = results[-1]
            _say(
                f"  {page:<28} {result.rps:8.0f} req/s   p50 {result.p50_ms:6.1f} ms   p99 "
                f"{result.p99_ms:6.1f} ms (pire tour {result.worst_p99_ms:.1f})   « 20 lignes » "
                f"voisine {result.beside:.0f} req/s (pire p99 {result.beside_worst_p99_ms:.1f} ms)"
                f"   CPU des workers {result.cpu_ms:.2f} ms par requête (voisine "
                f"{result.beside_cpu_ms:.2f})"
            )
        memory = worker_memory(proc.pid)
    return results, memory


def report(
    name: str, results: list[Result], memory: list[tuple[int, float, float]], args
) -> list[str]:
    by_page = {r.page: r for r in results}
    hello, rows = by_page.get("référence : hello"), by_page.get("référence : 20 lignes")
    missed = []
    _say(
        f"\n{name} — gunicorn {args.workers} workers ({args.worker_class}), wrk {args.connections} "
        f"connexions, {args.duration:.0f} s par page en {args.rounds} tours alternés avec la "
        "référence « 20 lignes » (p50, p99 : médiane des tours)"
    )
    _say(
        "| page | req/s | p50 (ms) | p99 (ms) | p99 du pire tour (ms) | / hello | / 20 lignes "
        "| « 20 lignes » voisine | p99 du pire tour de la voisine (ms) | / voisine "
        "| ms CPU des workers par requête (voisine) | rapport en CPU | ko | non-200 "
        f"| ≥ {TARGET_RATIO:.2f} × « 20 lignes » voisine, p99 < {TARGET_P99_MS} ms |"
    )
    _say("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        is_page = not r.page.startswith(("référence", "santé"))
        reference = r.beside or rows.rps
        clean = r.p99_ms < TARGET_P99_MS and r.non200 == 0 and r.errors == 0
        ok = clean and r.rps >= TARGET_RATIO * reference
        if is_page and not ok:
            missed.append(f"{name} {r.page}")
        verdict = ("atteint" if ok else "MANQUÉ") if is_page else ""
        beside = (
            f"{r.beside:.0f} | {r.beside_worst_p99_ms:.1f} | {r.rps / r.beside:.2f}"
            if r.beside
            else " | | "
        )
        worst = f"{r.worst_p99_ms:.1f}" if r.worst_p99_ms is not None else ""
        cpu = (
            f"{r.cpu_ms:.2f} ({r.beside_cpu_ms:.2f}) | {r.beside_cpu_ms / r.cpu_ms:.2f}"
            if r.cpu_ms and r.beside_cpu_ms
            else " | "
        )
        _say(
            f"| {r.page} | {r.rps:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {worst} | "
            f"{r.rps / hello.rps:.2f} | {r.rps / rows.rps:.2f} | {beside} | {cpu} | {r.kb:.0f} "
            f"| {r.non200 + r.errors} | {verdict} |"
        )
    for pid, rss, pss in memory:
        ok = rss < TARGET_RSS_MB
        if not ok:
            missed.append(f"{name} mémoire du worker {pid}")
        _say(
            f"worker {pid} : {rss:.0f} Mo résidents (RSS), {pss:.0f} Mo en propre (PSS) — objectif < "
            f"{TARGET_RSS_MB} Mo : {'atteint' if ok else 'MANQUÉ'}"
        )
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--duration", type=float, default=10.0, help="secondes de mesure par page")
    parser.add_argument("--warmup", type=float, default=3.0, help="secondes de chauffe par page")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="tours par page, chacun après un tour de la référence « 20 lignes » (--duration en tout)",
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="fils de wrk")
    parser.add_argument("--workers", type=int, default=2, help="workers gunicorn")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--port", type=int, default=8031)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        _say("wrk est introuvable : apt-get install -y wrk")
        return 1
    _say(f"Banc web : {os.cpu_count()} cœurs, charge moyenne {os.getloadavg()[0]:.1f} au départ")
    backends = {
        "postgresql": ("PostgreSQL", PG_URL),
        "sqlite": ("SQLite", f"sqlite:///{SQLITE_PATH}"),
    }
    chosen = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    missed: list[str] = []
    for key in chosen:
        name, url = backends[key]
        _say(f"\n=== {name} ({url}) ===")
        results, memory = run_backend(key, url, args)
        missed += report(name, results, memory, args)
    _say(f"Charge moyenne à la fin : {os.getloadavg()[0]:.1f}")
    _say(
        "\n"
        + (
            "Tous les objectifs sont atteints."
            if not missed
            else "Objectifs manqués : " + ", ".join(missed)
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
