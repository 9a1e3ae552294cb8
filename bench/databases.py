"""The databases a bench runs on: SQLite always, and a fresh PostgreSQL database (dropped afterwards)
when ENGAGEMENT_BENCH_DATABASE_URL names a server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa


def databases(workdir: Path, name: str = "engagement") -> Iterator[tuple[str, str]]:
    """SQLite always (``workdir/{name}.db``); PostgreSQL too when ENGAGEMENT_BENCH_DATABASE_URL names a
    server."""
    yield "sqlite", f"sqlite:///{workdir / f'{name}.db'}"
    server_url = os.environ.get("ENGAGEMENT_BENCH_DATABASE_URL")
    if server_url:
        with postgres_database(server_url) as url:
            yield "postgresql", url


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A new database on the server for this run only, dropped afterwards."""
    name = f"engagement_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
