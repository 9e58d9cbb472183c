"""gunicorn settings for Tutorat: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be changed from the environment (GUNICORN_*), so the same file serves a laptop,
the benchmark and a production server. The access log is off: the application writes its own
JSON line per request (tutorat/production.py), without personal data.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Pages are mostly CPU (Python, templates) with short database waits: 2 x cores + 1 sync workers
# keeps the cores busy while some wait. WEB_CONCURRENCY is the name most platforms set.
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
# Threads: when the database freezes, the requests waiting on it hold their thread until the
# statement timeout, while another thread of the same worker still answers /sante (in well under a
# second) and the pages that need no database. With one thread per worker, a frozen database
# would leave the balancer's probe queued behind them.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 4)
# A request taking longer than this is killed (and logged): no page should take more than a second.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycling workers every N requests (0: never) bounds a slow memory growth, at the cost of a cold
# cache in the new worker.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10)
# Load the application once in the master: a configuration error stops gunicorn at once, with
# the application's French message, and workers start (or restart after a crash) in milliseconds.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
# The workers' heartbeat files in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "tutorat"


def post_fork(server, worker):
    """Connections opened in the master before the fork must not be shared by the workers."""
    app = worker.app.wsgi() if preload_app else None
    extension = getattr(app, "extensions", {}).get("sqlalchemy") if app is not None else None
    if extension is None:
        return
    with app.app_context():
        for engine in extension.engines.values():
            engine.dispose(close=False)
        from tutorat.services import audit

        audit.dispose_engine(app, close=False)
