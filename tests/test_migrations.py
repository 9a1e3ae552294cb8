"""Migrations build the schema from nothing, match the models exactly, and come down again."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import check, downgrade, upgrade

from engagement import create_app
from engagement.extensions import db
from tests.conftest import TEST_SECRET
from tests.services import postgres_server_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    server = postgres_server_url(os.environ.get("ENGAGEMENT_TEST_POSTGRES_URL"))
    name = f"engagement_migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_upgrade_from_empty_matches_the_models_and_downgrades_to_nothing(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": TEST_SECRET})
    with app.app_context():
        upgrade()
        check()  # raises when the models and the migrations disagree
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.engine.dispose()


def test_rebuilding_tables_for_unique_ids_keeps_every_row_and_the_next_id_is_new(empty_database):
    # SQLite rebuilds a table to give it AUTOINCREMENT; with foreign keys enforced, dropping the old
    # comments table would have deleted every like and reply with it.
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": TEST_SECRET})
    with app.app_context():
        upgrade(revision="0007")
        statements = [
            "INSERT INTO sites (id, slug, name, origins, settings) VALUES (1, 's', 'S', '[]', '{}')",
            "INSERT INTO threads (id, site_id, key, title, url, closed, comment_count, version)"
            " VALUES (1, 1, 'k', '', '', false, 2, 1)",
            *(
                "INSERT INTO comments (id, site_id, thread_id, parent_id, depth, author_name, author_email,"
                " user_agent, body, html, status, spam_reasons)"
                f" VALUES ({i}, 1, 1, {parent}, {depth}, 'a', 'a@example.org', '', 'b', '<p>b</p>',"
                " 'approved', '[]')"
                for i, parent, depth in ((1, "NULL", 0), (2, 1, 1), (3, "NULL", 0))
            ),
            "INSERT INTO comment_likes (comment_id, reader_hash) VALUES (1, 'r')",
            "INSERT INTO audit_entries (site_id, comment_id, actor, action, reason, details)"
            " VALUES (1, 2, 'x', 'held', '', '{}')",
            "DELETE FROM comments WHERE id = 3",
        ]
        with db.engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
        db.engine.dispose()
        upgrade()
        with db.engine.begin() as connection:
            counts = {
                table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                for table in ("sites", "threads", "comments", "comment_likes", "audit_entries")
            }
            assert counts == {"sites": 1, "threads": 1, "comments": 2, "comment_likes": 1, "audit_entries": 1}
            assert connection.exec_driver_sql("SELECT parent_id FROM comments WHERE id = 2").scalar() == 1
            if connection.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()


def test_existing_comments_get_their_body_digest_and_a_lower_cased_address(empty_database):
    from engagement.normalization import body_digest

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": TEST_SECRET})
    with app.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO sites (id, slug, name, origins, settings) VALUES (1, 's', 'S', '[]', '{}')"
            )
            connection.exec_driver_sql(
                "INSERT INTO threads (id, site_id, key, title, url, closed, comment_count, version)"
                " VALUES (1, 1, 'k', '', '', false, 1, 1)"
            )
            connection.exec_driver_sql(
                "INSERT INTO comments (site_id, thread_id, depth, author_name, author_email, user_agent,"
                " body, html, status, spam_reasons)"
                " VALUES (1, 1, 0, 'a', 'Ada@Example.org', '', 'Hello  World', '<p>x</p>', 'approved', '[]')"
            )
        db.engine.dispose()
        upgrade()
        with db.engine.begin() as connection:
            row = connection.exec_driver_sql("SELECT author_email, body_digest FROM comments").one()
        assert tuple(row) == ("ada@example.org", body_digest("hello world"))
        db.engine.dispose()
