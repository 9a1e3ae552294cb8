"""Real backing services for tests. Missing locally: the test skips. In CI (CI=true): it fails,
because a green run that skipped PostgreSQL, Redis, SMTP or Chromium proves nothing."""

from __future__ import annotations

import os
import shutil
import urllib.parse

import pytest

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(what: str) -> None:
    """Skip, or fail in CI, because a real service the test needs is not there."""
    message = f"{what} is not available"
    if in_ci():
        pytest.fail(f"{message}, and CI must not skip it", pytrace=False)
    pytest.skip(message)


def postgres_server_url(url: str | None = None) -> str:
    """A reachable PostgreSQL server URL (its maintenance database), or skip/fail."""
    import sqlalchemy as sa

    url = url or os.environ.get("ENGAGEMENT_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    engine = sa.create_engine(url)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError:
        unavailable(f"PostgreSQL at {url}")
    finally:
        engine.dispose()
    return url


def redis_url() -> str:
    """A reachable Redis URL (a database of its own, flushed by the tests that use it), or skip/fail."""
    import redis

    url = _own_database(os.environ.get("ENGAGEMENT_TEST_REDIS_URL") or DEFAULT_REDIS)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        unavailable(f"Redis at {url}")
    finally:
        client.close()
    return url


def _own_database(url: str) -> str:
    """The Redis database of this test process: the configured one, counted down by the pytest-xdist
    worker's number (gw0 keeps it, gw1 takes the one below, ...), so two workers never flush each
    other's keys."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    offset = int(worker.removeprefix("gw") or 0)
    if not offset:
        return url
    parsed = urllib.parse.urlsplit(url)
    database = int(parsed.path.strip("/") or 0)
    if offset > database:
        pytest.fail(f"{url}: too few Redis databases below it for worker {worker}", pytrace=False)
    return urllib.parse.urlunsplit(parsed._replace(path=f"/{database - offset}"))


def chromium_path() -> str:
    path = os.environ.get("ENGAGEMENT_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        unavailable("Chromium (apt-get install -y chromium)")
    return path
