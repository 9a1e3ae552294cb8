"""The deployment files agree with each other and with what the tests exercise."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_dockerfile_migrates_then_execs_gunicorn_with_the_shared_config():
    dockerfile = (ROOT / "Dockerfile").read_text()
    [cmd] = re.findall(r"^CMD (.+)$", dockerfile, re.MULTILINE)
    command = " ".join(json.loads(cmd))
    assert "flask db upgrade && exec gunicorn -c gunicorn.conf.py" in command
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    for copied in ("gunicorn.conf.py", "wsgi.py", "migrations", "engagement"):
        assert copied in dockerfile


def test_make_run_uses_the_same_gunicorn_config():
    assert "gunicorn -c gunicorn.conf.py" in (ROOT / "Makefile").read_text()


def test_gunicorn_config_binds_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ENGAGEMENT_BIND", "0.0.0.0:9999")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["bind"] == "0.0.0.0:9999"
    assert config["workers"] == 3
    assert config["wsgi_app"] == "wsgi:app"
    assert config["forwarded_allow_ips"] == ""


def test_gunicorn_trusts_forwarded_headers_only_with_trusted_proxies(monkeypatch, tmp_path):
    monkeypatch.setenv("ENGAGEMENT_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["forwarded_allow_ips"] == "*"


def test_runtime_requirements_are_all_pinned():
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line) for line in lines)
