"""Cost of each benchmarked page inside one process: python -m bench.profile_pages.

`make bench-web` measures the pages under gunicorn and wrk; on a shared machine its figures move
with the other work of the moment. This script measures what does not: the CPU time of one request
of each page, called through the application's WSGI entry point (middlewares, request log, session,
CSRF, rate limiter, user loader, template: everything but the HTTP server), **alternately** with
the "20 rows" reference page (bench/reference_app.py) in the same process and on the same database,
so the ratio holds whatever the machine does meanwhile. Also printed per page: the SQL statements
and the Python function calls (cProfile) of one request, figures that do not depend on the load.

    .venv/bin/python -m bench.profile_pages --db /tmp/gers.sqlite3          # a copy of the Gers base
    .venv/bin/python -m bench.profile_pages --db postgresql+psycopg://…/tutorat_bench
    .venv/bin/python -m bench.profile_pages --profile binôme                 # the 25 costliest functions

The base is one made by `make bench-web` (`flask seed-demo --scale gers`); the script only reads
(and writes what a request writes: the session's activity stamp, the access log of a record shown).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
REFERENT = "referent@example.org"
PASSWORD = "Demo-Armagnac-2026"
TARGET_RATIO = 0.25
USER_AGENT = "tutorat-bench/1"  # the login's and the pages' (one browser)


def _url(value: str) -> str:
    return value if "://" in value else f"sqlite:///{Path(value).resolve()}"


@contextmanager
def _quiet():
    """The JSON request log goes to stderr (as under gunicorn): written, but not shown."""
    saved = sys.stderr
    with open(os.devnull, "w") as null:
        sys.stderr = null
        try:
            yield
        finally:
            sys.stderr = saved


class Caller:
    """Calls a WSGI application with a prepared environ (the cookie of a logged-in référent).

    Like a browser, it sends the login's User-Agent and keeps the session cookie the server sends
    back (`jar`, shared by the pages of one login): the activity stamp is rewritten every 30 s
    (tutorat/sessions.py), and a client that never took the new cookie would have every request
    re-sign it.
    """

    def __init__(self, app, path: str, jar: dict[str, str] | None = None) -> None:
        from werkzeug.test import EnvironBuilder

        self.jar = jar if jar is not None else {}
        headers = {"User-Agent": USER_AGENT}
        builder = EnvironBuilder(path=path, base_url="http://127.0.0.1:8000", headers=headers)
        self.environ = builder.get_environ()
        builder.close()
        self.app = app
        self.status = ""

    def _start(self, status, headers, exc_info=None):
        self.status = status
        for name, value in headers:
            if name == "Set-Cookie" and value.startswith("session="):
                self.jar["cookie"] = value.split(";", 1)[0]

    def __call__(self) -> int:
        environ = dict(self.environ)
        environ["wsgi.input"] = io.BytesIO(b"")
        if self.jar:
            environ["HTTP_COOKIE"] = self.jar["cookie"]
        body = self.app(environ, self._start)
        size = 0
        try:
            for chunk in body:
                size += len(chunk)
        finally:
            close = getattr(body, "close", None)
            if close:
                close()
        return size


def login(app) -> dict[str, str]:
    """The cookie jar of a logged-in référent (logged in with the User-Agent the pages send)."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    html = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token, "pas de jeton CSRF sur la page de connexion"
    client.post(
        "/connexion",
        data={"csrf_token": token.group(1), "email": REFERENT, "password": PASSWORD},
    )
    cookie = client.get_cookie("session")
    assert cookie is not None, "connexion refusée"
    return {"cookie": f"session={cookie.value}"}


def add_floor_pages(app) -> None:
    """Two pages that only this script adds: what every logged-in request costs (the floor)."""
    from flask import render_template
    from flask_login import current_user, login_required

    @login_required
    def nothing():
        return f"Bonjour {current_user.first_name}"

    @login_required
    def base():
        return render_template("base.html")

    app.add_url_rule("/_plancher/rien", "floor_nothing", nothing)
    app.add_url_rule("/_plancher/base", "floor_base", base)


def pick_paths(url: str) -> dict[str, list[str]]:
    from bench.bench_web import pick_paths as bench_paths

    paths = bench_paths(url)
    return {
        "plancher : connecté, sans gabarit": ["/_plancher/rien"],
        "plancher : connecté, base.html seul": ["/_plancher/base"],
        "page connectée minimale (/compte/)": ["/compte/"],
        **paths,
        "tableau de bord, liste « binômes actifs »": [
            "/referent/?" + urlencode({"statut": "actifs", "page": 1})
        ],
    }


def count_queries(app, caller: Caller) -> int:
    from sqlalchemy import event

    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        if statement.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen.append(statement)

    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        caller()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(seen)


def python_calls(caller: Caller, n: int = 5, show: int = 0) -> float:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        caller()
    profile.disable()
    stats = pstats.Stats(profile)
    if show:
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats("cumulative").print_stats(show)
        print(out.getvalue(), file=sys.__stdout__)
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats("tottime").print_stats(show)
        print(out.getvalue(), file=sys.__stdout__)
    return stats.total_calls / n  # type: ignore[attr-defined]


def cpu_ms(callers: list[Caller], n: int) -> tuple[float, float]:
    """CPU and real milliseconds per request, over `n` requests cycling through `callers` (the real
    time also counts the database server's work and the round trips, on PostgreSQL)."""
    start, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        callers[i % len(callers)]()
    return (
        (time.process_time() - start) * 1000 / n,
        (time.perf_counter() - wall) * 1000 / n,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        default=str(ROOT / "instance" / "bench" / "gers.sqlite3"),
        help="chemin d'un fichier SQLite, ou adresse d'une base (postgresql+psycopg://…)",
    )
    parser.add_argument("-n", type=int, default=40, help="requêtes par série")
    parser.add_argument("--rounds", type=int, default=5, help="séries (la meilleure est gardée)")
    parser.add_argument(
        "--only", default="", help="ne mesurer que les pages dont le nom contient ce texte"
    )
    parser.add_argument("--profile", default="", help="afficher le profil de cette page")
    args = parser.parse_args(argv)

    url = _url(args.db)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("TUTORAT_INSTANCE_PATH", "/tmp/tutorat-profile-instance")
    os.environ["REQUEST_LOG"] = "1"  # as in bench-web: the JSON line of each request is written
    for key in [k for k in os.environ if k.startswith("TUTORAT_ENV")]:
        del os.environ[key]

    from bench.reference_app import app as reference
    from tutorat import create_app

    app = create_app()
    add_floor_pages(app)
    jar = login(app)
    pages = {
        name: [Caller(app, p, jar) for p in paths]
        for name, paths in pick_paths(url).items()
        if paths and args.only.lower() in name.lower()
    }
    rows = [Caller(reference, "/rows")]
    with _quiet():
        for callers in [rows, *pages.values()]:  # warm up: first renders, pools, compiled queries
            for caller in callers:
                for _ in range(3):
                    caller()
            assert all(c.status.startswith("200") for c in callers), [c.status for c in callers]

        if args.profile:
            name = next(n for n in pages if args.profile.lower() in n.lower())
            python_calls(pages[name][0], n=args.n, show=40)
            return 0

        print(
            f"Coût dans le processus ({url.split('://')[0]}), charge moyenne "
            f"{os.getloadavg()[0]:.1f} ; meilleure de {args.rounds} séries de {args.n} requêtes, "
            "chaque page en alternance avec la référence « 20 lignes »",
            file=sys.__stdout__,
        )
        print(
            "| page | ms CPU | « 20 lignes » ms | ratio (objectif ≥ 0,25) | ms réels | « 20 lignes »"
            " ms réels | ratio réel | requêtes SQL | appels Python | ko |",
            file=sys.__stdout__,
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|", file=sys.__stdout__)
        ref_calls = python_calls(rows[0])
        print(
            f"| référence « 20 lignes » | | | | {count_queries(reference, rows[0])} "
            f"| {ref_calls:,.0f} | {rows[0]() / 1024:.0f} |",
            file=sys.__stdout__,
        )
        for name, callers in pages.items():
            best_page, best_ref = (float("inf"),) * 2, (float("inf"),) * 2
            for _ in range(args.rounds):
                best_ref = min(best_ref, cpu_ms(rows, args.n))
                best_page = min(best_page, cpu_ms(callers, args.n))
            ratio = best_ref[0] / best_page[0]
            real = best_ref[1] / best_page[1]
            print(
                f"| {name} | {best_page[0]:.2f} | {best_ref[0]:.2f} | {ratio:.2f}"
                f"{'' if ratio >= TARGET_RATIO else ' (manqué)'} "
                f"| {best_page[1]:.2f} | {best_ref[1]:.2f} | {real:.2f} "
                f"| {count_queries(app, callers[0])} | {python_calls(callers[0]):,.0f} "
                f"| {callers[0]() / 1024:.0f} |",
                file=sys.__stdout__,
            )
        print(f"charge moyenne à la fin : {os.getloadavg()[0]:.1f}", file=sys.__stdout__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
