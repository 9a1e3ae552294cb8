"""Request ids, one structured log line per request, and Prometheus metrics.

Under gunicorn with several workers, ``PROMETHEUS_MULTIPROC_DIR`` (set by gunicorn.conf.py) switches
prometheus_client to its multiprocess mode so /metrics adds up every worker.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import os
import re
import sys
import time
from typing import Any

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from engagement.errors import Unauthorized

REQUESTS = Counter(
    "engagement_http_requests_total", "HTTP requests handled", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "engagement_http_request_duration_seconds",
    "Time to handle an HTTP request",
    ["method", "endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Mailed links carry signed tokens in their path (/mail/confirm/<token>, /privacy/erase/<token>), and a
# console sign-in link its one-time secret (/console/link/<token>): logs must not keep usable ones.
# Every route with a <token> lives under one of these prefixes (a test walks the URL map to keep it so).
SIGNED_LINK_PREFIXES = ("/mail/", "/privacy/", "/console/link/")
_LINK_TOKEN = re.compile(r"^(/(?:mail|privacy|console)/[a-z-]+/)[^/?#]+")


def redact_path(path: str) -> str:
    """The path as logs may keep it: the token of a mailed link replaced."""
    return _LINK_TOKEN.sub(r"\1[redacted]", path) if path.startswith(SIGNED_LINK_PREFIXES) else path


access_log = logging.getLogger("engagement.request")


# Any token is a method to HTTP: a client inventing them must not add series without end.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# The labelled series of each (method, route, status), kept: ``labels()`` validates and locks on every call.
@functools.lru_cache(maxsize=4096)
def _requests(method: str, endpoint: str, status: int) -> Any:
    return REQUESTS.labels(method if method in _METHODS else "OTHER", endpoint, str(status))


@functools.lru_cache(maxsize=4096)
def _latency(method: str, endpoint: str) -> Any:
    return LATENCY.labels(method if method in _METHODS else "OTHER", endpoint)


class JsonFormatter(logging.Formatter):
    """Log records as one JSON object per line; request fields arrive through ``extra``."""

    _second = -1
    _second_text = ""

    def _time(self, record: logging.LogRecord) -> str:
        # Formatted once per second: a busy worker logs hundreds of lines within one.
        second = int(record.created)
        if second != self._second:
            self._second, self._second_text = second, self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z")
        return self._second_text

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self._time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(app: Flask) -> None:
    root = logging.getLogger("engagement")
    root.setLevel(app.config["LOG_LEVEL"].upper())
    if not any(getattr(h, "_engagement", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._engagement = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.propagate = False


def init_request_tracking(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()
        supplied = request.headers.get("X-Request-ID", "")
        # 128 random bits in hex, as uuid4().hex spells them less the version bits, for a third of its cost.
        g.request_id = supplied if _REQUEST_ID.match(supplied) else os.urandom(16).hex()

    @app.after_request
    def record(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:  # failed before our before_request ran
            return response
        duration = time.perf_counter() - started
        current = request._get_current_object()  # one proxy lookup instead of one per attribute
        endpoint = current.url_rule.rule if current.url_rule else "unmatched"
        _requests(current.method, endpoint, response.status_code).inc()
        _latency(current.method, endpoint).observe(duration)
        response.headers["X-Request-ID"] = g.request_id
        if access_log.isEnabledFor(logging.INFO):
            fields = {
                "method": current.method,
                "path": redact_path(current.path),
                "status": response.status_code,
                "duration_ms": round(duration * 1000, 2),
                "request_id": g.request_id,
            }
            # makeRecord + handle is what Logger.info does, less finding the caller's source line by
            # walking the stack (a request line has no caller worth naming).
            record = access_log.makeRecord(
                access_log.name, logging.INFO, "", 0, "request", (), None, extra={"fields": fields}
            )
            access_log.handle(record)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        _require_metrics_access()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            payload = generate_latest(registry)
        else:
            payload = generate_latest()
        return Response(payload, mimetype=CONTENT_TYPE_LATEST)


def _require_metrics_access() -> None:
    """With ``METRICS_TOKEN``, only a scraper that sends it reads /metrics (401 otherwise); without one,
    production does not serve /metrics at all (404, like any unknown path), so it is never open by accident.
    Development keeps it open."""
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        if current_app.config["ENV"] == "production":
            abort(404)
        return
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a header may carry any).
    if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip().encode(), token.encode()):
        raise Unauthorized("unauthorized", "Send Authorization: Bearer <metrics token>.")
