"""The application shell: configuration, probes, metrics, the JSON error shape and request logging."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from engagement import create_app
from engagement.config import SETTINGS
from engagement.observability import redact_path


def test_settings_come_from_defaults_then_environment_then_the_mapping(monkeypatch, tmp_path):
    monkeypatch.setenv("ENGAGEMENT_TRUSTED_PROXIES", "2")
    monkeypatch.setenv("ENGAGEMENT_LOG_LEVEL", "WARNING")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "s", "LOG_LEVEL": "DEBUG"}
    )
    assert app.config["TRUSTED_PROXIES"] == 2
    assert app.config["LOG_LEVEL"] == "DEBUG"
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024


def test_a_malformed_environment_value_stops_the_app_with_its_name(monkeypatch):
    monkeypatch.setenv("ENGAGEMENT_TRUSTED_PROXIES", "many")
    with pytest.raises(RuntimeError, match="ENGAGEMENT_TRUSTED_PROXIES"):
        create_app({"SECRET_KEY": "s"})


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("ENGAGEMENT_ENV", "production")
    monkeypatch.delenv("ENGAGEMENT_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="ENGAGEMENT_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_development_secret_is_generated_once_and_kept_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("ENGAGEMENT_SECRET_KEY", raising=False)
    from engagement.config import load_config

    first = load_config(tmp_path, {"SQLALCHEMY_DATABASE_URI": "sqlite://"})["SECRET_KEY"]
    second = load_config(tmp_path, {"SQLALCHEMY_DATABASE_URI": "sqlite://"})["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("ENGAGEMENT_DATABASE_URL", raising=False)
    from engagement.config import load_config

    config = load_config(tmp_path, {"SECRET_KEY": "s"})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'engagement.db'}"


def test_sqlite_runs_in_wal_mode_with_foreign_keys_enforced(make_app, tmp_path):
    from sqlalchemy import text

    from engagement.extensions import db

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/pragmas.db")
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ready_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready"}


def test_readyz_is_503_json_when_the_database_is_unreachable(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert response.mimetype == "application/json"


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.post("/readyz")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_unexpected_errors_are_json_500_without_a_trace(make_app):
    app = make_app()

    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json == {
        "error": {"code": "internal_error", "message": "Something went wrong on our side."}
    }
    assert b"secret internals" not in response.data


def test_metrics_are_prometheus_text_with_request_counts(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert 'engagement_http_requests_total{endpoint="/healthz",method="GET",status="200"}' in response.text
    assert "engagement_http_request_duration_seconds_bucket" in response.text


METRICS_TOKEN = "scrape-0123456789abcdef"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x", "Bearer \xed\xa0\x80"],
)
@pytest.mark.parametrize("env", ["development", "production"])
def test_metrics_with_a_token_set_are_refused_without_it(make_app, env, authorization):
    client = make_app(METRICS_TOKEN=METRICS_TOKEN, ENV=env).test_client()

    response = client.get("/metrics", headers={"Authorization": authorization} if authorization else {})

    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "engagement_http" not in response.text


@pytest.mark.parametrize("env", ["development", "production"])
def test_metrics_with_a_token_set_are_served_to_a_scraper_sending_it(make_app, env):
    client = make_app(METRICS_TOKEN=METRICS_TOKEN, ENV=env).test_client()

    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert response.status_code == 200
    assert "engagement_http_requests_total" in response.text


def test_metrics_are_not_served_in_production_without_a_token(make_app):
    client = make_app(ENV="production").test_client()

    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert response.status_code == 404
    assert "engagement_http" not in response.text


def test_each_request_logs_one_structured_line_and_echoes_the_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="engagement.request"):
        response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    [record] = [r for r in caplog.records if r.name == "engagement.request"]
    assert record.fields == {
        "method": "GET",
        "path": "/healthz",
        "status": 200,
        "duration_ms": record.fields["duration_ms"],
        "request_id": "abc-123",
    }


def test_a_hostile_request_id_is_replaced_by_a_generated_one(client):
    response = client.get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert len(response.headers["X-Request-ID"]) == 32


def test_json_log_formatter_writes_one_json_object_per_line():
    from engagement.observability import JsonFormatter

    record = logging.LogRecord("engagement.request", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"status": 200}
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line)["status"] == 200


def test_every_setting_is_documented_in_the_operations_guide():
    guide = (Path(__file__).parent.parent / "docs" / "operations.md").read_text()
    missing = [s.env_var for s in SETTINGS if f"`{s.env_var}`" not in guide]
    assert missing == []


def test_request_logs_redact_the_tokens_of_mailed_links(client, caplog):
    with caplog.at_level(logging.INFO, logger="engagement.request"):
        client.get("/mail/unsubscribe/eyJzZWNyZXQiOjF9.abc.def")
    [record] = [r for r in caplog.records if r.name == "engagement.request"]
    assert record.fields["path"] == "/mail/unsubscribe/[redacted]"


def test_every_route_that_takes_a_token_in_its_path_is_redacted_in_logs(app):
    # Privacy export and erase links used to be logged whole, token and all.
    routes = [rule.rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert any(route.startswith("/privacy/") for route in routes) and any(
        r.startswith("/mail/") for r in routes
    )
    for route in routes:
        path = route.replace("<token>", "eyJyIjoxfQ.aBc.dEf")
        assert redact_path(path) == route.replace("<token>", "[redacted]"), route


def test_gunicorn_access_log_redacts_the_tokens_of_mailed_links():
    from engagement.gunicorn_logging import _redact_request_line

    assert (
        _redact_request_line("GET /mail/moderate/tok.en?x=1 HTTP/1.1")
        == "GET /mail/moderate/[redacted]?x=1 HTTP/1.1"
    )
    assert (
        _redact_request_line("GET /api/v1/sites/a/comments HTTP/1.1")
        == "GET /api/v1/sites/a/comments HTTP/1.1"
    )
