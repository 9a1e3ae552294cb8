"""A database connection that dies at the wrong moment costs a 503 JSON answer at most, never a 500 page.

Found by the load test that kills PostgreSQL connections mid-load (tests/test_load_faults.py); here each
moment is reproduced on purpose: the app's own connection is terminated from a second connection.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, jsonify

from engagement import create_app
from engagement.extensions import db
from tests.conftest import TEST_SECRET
from tests.services import postgres_server_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def admin() -> Iterator[sa.Engine]:
    engine = sa.create_engine(postgres_server_url(), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def app(admin: sa.Engine) -> Iterator[Flask]:
    """The app on PostgreSQL, with two routes that lose their connection at a chosen moment."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": admin.url, "SECRET_KEY": TEST_SECRET, "TESTING": True})

    def terminate_own_connection() -> None:
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    @app.get("/api/v1/test/connection-lost-after-answer")
    def connection_lost_after_answer():
        terminate_own_connection()
        return jsonify(answered=True)

    @app.get("/api/v1/test/connection-lost-before-query")
    def connection_lost_before_query():
        terminate_own_connection()
        db.session.execute(sa.text("SELECT 1"))
        return jsonify(answered=True)

    yield app
    with app.app_context():
        db.engine.dispose()


def test_connection_lost_after_the_answer_is_ready_still_sends_the_answer(app):
    response = app.test_client().get("/api/v1/test/connection-lost-after-answer")

    assert response.status_code == 200
    assert response.json == {"answered": True}


def test_connection_lost_before_a_query_is_a_503_json_error(app):
    response = app.test_client().get("/api/v1/test/connection-lost-before-query")

    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"


def test_the_next_request_gets_a_fresh_connection(app):
    client = app.test_client()
    client.get("/api/v1/test/connection-lost-after-answer")

    assert client.get("/readyz").status_code == 200
