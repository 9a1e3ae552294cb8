"""Fixtures: every test gets its own app and an empty, migrated database (SQLite file or PostgreSQL).

SQLite (default): the migrations run once into a template file, copied for each test.
PostgreSQL (ENGAGEMENT_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/postgres): a fresh
database is created for the session from that server, migrated once, and emptied after each test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from engagement import create_app
from engagement.counters.platforms import PLATFORMS
from engagement.extensions import db
from tests.services import postgres_server_url

TEST_SECRET = "test-secret-key-not-for-production"


class FrozenClock:
    """The app's clock in tests: time moves only when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 5, 7, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def _upgrade(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": TEST_SECRET})
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(kind, location): a migrated SQLite template file or a migrated PostgreSQL database URL."""
    server = os.environ.get("ENGAGEMENT_TEST_DATABASE_URL")
    if not server:
        template = tmp_path_factory.mktemp("db") / "template.db"
        _upgrade(f"sqlite:///{template}")
        yield "sqlite", str(template)
        return
    server = postgres_server_url(server)
    name = f"engagement_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    _upgrade(url)
    try:
        yield "postgresql", url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def database_url(database_template: tuple[str, str], tmp_path: Path) -> Iterator[str]:
    kind, location = database_template
    if kind == "sqlite":
        target = tmp_path / "engagement.db"
        shutil.copyfile(location, target)
        yield f"sqlite:///{target}"
        return
    yield location
    engine = sa.create_engine(location)
    with engine.begin() as conn:
        tables = [t.name for t in db.metadata.sorted_tables]
        conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def make_app(database_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[Any]:
    """Build the app with extra settings; every app built is torn down after the test."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        config = {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": TEST_SECRET,
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "CLOCK": clock,
            # Where a deployment says it is reached; links never come from a request's Host.
            "PUBLIC_URL": "http://localhost",
            # The stamps file of this test's processes only (with PostgreSQL it would go to instance/).
            "CHANGE_STAMPS_PATH": str(tmp_path / "change-stamps"),
            # Likewise the rate-limit counters: no test spends another's budget.
            "RATELIMIT_STORAGE_PATH": str(tmp_path / "rate-limits"),
            # And the exports the worker writes.
            "EXPORT_DIR": str(tmp_path / "exports"),
            # Never the real Akismet: a key sent by a fuzzer meets a refused connection on 127.0.0.1
            # (tests/fakes/akismet.py stands in where a test wants answers).
            "AKISMET_URL": "http://127.0.0.1:9",
            # Nor any real platform: a feed a test or a fuzzer makes meets the same refused connection
            # (tests/fakes/platforms.py stands in where a test wants answers).
            "PLATFORM_URLS": dict.fromkeys(PLATFORMS, "http://127.0.0.1:9"),
            **overrides,
        }
        app = create_app(config)
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app: Any) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()
