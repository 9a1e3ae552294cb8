"""Operator commands: ``flask engagement ...``."""

from __future__ import annotations

from sqlalchemy import select, text

from engagement.extensions import db
from engagement.models import Site, StaffToken


def test_create_site_stores_slug_name_and_origins(runner):
    result = runner.invoke(
        args=[
            "engagement",
            "create-site",
            "daily",
            "--name",
            "The Daily",
            "--origin",
            "https://daily.example/",
        ]
    )
    assert result.exit_code == 0, result.output
    site = db.session.scalar(select(Site).where(Site.slug == "daily"))
    assert site.name == "The Daily"
    assert site.origins == ["https://daily.example"]
    assert site.settings.moderation == "first_time"


def test_create_site_refuses_a_name_that_is_not_one_line(runner):
    # The sender's name of every mail of the site: a line break in it made each one fail to build.
    result = runner.invoke(args=["engagement", "create-site", "daily", "--name", "The Daily\nBcc: x@y.org"])
    assert result.exit_code != 0
    assert "name: The site's name must be one line" in result.output
    assert db.session.scalar(select(Site).where(Site.slug == "daily")) is None


def test_create_site_twice_fails_with_a_message(runner):
    runner.invoke(args=["engagement", "create-site", "daily", "--name", "The Daily"])
    result = runner.invoke(args=["engagement", "create-site", "daily", "--name", "Again"])
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_create_token_prints_the_secret_once_and_stores_only_its_hash(runner):
    runner.invoke(args=["engagement", "create-site", "daily", "--name", "The Daily"])
    result = runner.invoke(
        args=["engagement", "create-token", "--role", "moderator", "--site", "daily", "--label", "jane"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("eng_") and len(secret) > 40

    token = db.session.scalar(select(StaffToken))
    assert token.role == "moderator" and [s.slug for s in token.sites] == ["daily"]
    # Nowhere in the database is the secret stored in clear.
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f"SELECT * FROM {table.name}")):
            assert all(secret not in str(value) for value in row)


def test_moderator_token_needs_a_site(runner):
    result = runner.invoke(args=["engagement", "create-token", "--role", "moderator", "--label", "x"])
    assert result.exit_code != 0
    assert "--site" in result.output


def test_token_for_an_unknown_site_is_refused(runner):
    result = runner.invoke(
        args=["engagement", "create-token", "--role", "moderator", "--site", "nope", "--label", "x"]
    )
    assert result.exit_code != 0
    assert "site_not_found" in result.output


def test_revoke_token_marks_it_revoked(runner):
    runner.invoke(args=["engagement", "create-token", "--role", "admin", "--label", "ops"])
    token_id = db.session.scalar(select(StaffToken.id))
    result = runner.invoke(args=["engagement", "revoke-token", str(token_id)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(StaffToken, token_id).revoked_at is not None


def test_seed_demo_is_idempotent(runner):
    first = runner.invoke(args=["engagement", "seed-demo"])
    second = runner.invoke(args=["engagement", "seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "already" in second.output
    assert len(db.session.scalars(select(Site).where(Site.slug == "demo")).all()) == 1


def test_create_site_refuses_a_slug_urls_cannot_carry(runner):
    result = runner.invoke(args=["engagement", "create-site", "The Daily!", "--name", "The Daily"])
    assert result.exit_code != 0
    assert "slug: Use 1-64 lowercase letters" in result.output
