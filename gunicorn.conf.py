"""gunicorn settings for production, `make run`, the benchmarks and the Dockerfile alike."""

import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("ENGAGEMENT_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# The sync worker, with gunicorn's own refusals (a request line over 4 KB...) in the API's JSON error shape.
worker_class = "engagement.gunicorn_worker.JsonErrorsSyncWorker"
# Requests are short: a stuck worker is restarted. On SIGTERM in-flight requests get graceful_timeout.
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = "-"
# The access log redacts the signed tokens of mailed links (see engagement/gunicorn_logging.py).
logger_class = "engagement.gunicorn_logging.RedactingLogger"
errorlog = "-"
wsgi_app = "wsgi:app"
# Trust X-Forwarded-* only from the proxies the app trusts; with no trusted hops gunicorn trusts none either.
forwarded_allow_ips = "*" if int(os.environ.get("ENGAGEMENT_TRUSTED_PROXIES", "0") or 0) > 0 else ""

# prometheus_client's multiprocess mode: every worker writes its samples to a shared directory.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if not _metrics_dir:
    _metrics_dir = tempfile.mkdtemp(prefix="engagement-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def on_starting(server):
    # Samples from a previous run would be added to this one's.
    if os.path.isdir(_metrics_dir):
        shutil.rmtree(_metrics_dir)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
