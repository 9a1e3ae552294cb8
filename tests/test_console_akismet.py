"""The Akismet key on the console's settings page: write-only (never shown back), verified with Akismet before
it is saved (a local fake), replaced or removed; a refusal is a message next to the field."""

from __future__ import annotations

import pytest

from engagement.encryption import decrypt_secret
from engagement.extensions import db
from engagement.models import Site
from tests.fakes.akismet import (
    VALID_KEY,
    akismet_fixture,  # noqa: F401 (the "akismet" fixture)
)
from tests.test_akismet import app  # noqa: F401 (the app, asking the fake Akismet)
from tests.test_console_queue import signed_in
from tests.test_console_sign_in import ADMIN
from tests.test_console_sites import html, save_settings, staff  # noqa: F401 (the "staff" fixture)


@pytest.fixture
def admin(app, staff):  # noqa: F811
    return signed_in(app, ADMIN)


def stored_key() -> str | None:
    db.session.expire_all()
    encrypted = db.session.query(Site).filter_by(slug="news").one().akismet_key_encrypted
    return decrypt_secret(encrypted) if encrypted else None


def test_a_verified_key_is_saved_and_never_shown_back(admin, akismet):
    assert save_settings(admin, akismet_key=VALID_KEY).status_code == 303
    assert stored_key() == VALID_KEY
    page = html(admin.get("/console/sites/news"))
    assert VALID_KEY not in page and "This site has its own Akismet key" in page


def test_a_key_akismet_refuses_is_a_field_error_and_nothing_is_saved(admin, akismet):
    page = html(save_settings(admin, akismet_key="not-a-real-key", max_links="4"), 422)
    assert "Akismet does not accept this key" in page and 'id="akismet_key-error"' in page
    assert "not-a-real-key" not in page  # a secret is never written back into the page
    assert stored_key() is None


def test_akismet_unreachable_saves_nothing(admin, akismet):
    akismet.failure = "500"
    page = html(save_settings(admin, akismet_key=VALID_KEY), 503)
    assert "could not be reached" in page and stored_key() is None


def test_blank_keeps_the_key_and_remove_drops_it(admin, akismet):
    save_settings(admin, akismet_key=VALID_KEY)
    assert save_settings(admin, max_links="4").status_code == 303
    assert stored_key() == VALID_KEY
    assert save_settings(admin, akismet_key_remove="1").status_code == 303
    assert stored_key() is None
