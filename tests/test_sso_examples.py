"""The README's two ten-line token signers, run as written: the Python one with PyJWT, the PHP one under
php-cli; each token is exchanged by the service for a reader session."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from engagement.config import utc_now
from engagement.models import StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site
from tests.services import unavailable

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Single sign-on") :].split("\n## ", 1)[0]


def example(language: str) -> str:
    (code,) = re.findall(rf"```{language}\n(.*?)```", SECTION, re.DOTALL)
    return code


@pytest.fixture
def daily(make_app: Any) -> Any:
    """The README's site, with a key; the app on the real clock (the examples read time.time())."""
    app = make_app(CLOCK=utc_now)
    with app.app_context():
        make_site("daily")
        admin = {"Authorization": f"Bearer {create_token(role=StaffRole.ADMIN, site_slugs=[], label='a')[1]}"}
        client = app.test_client()
        made = client.post("/api/v1/moderation/sites/daily/sso/keys", json={"kid": "web-1"}, headers=admin)
        yield SimpleNamespace(client=client, secret=made.json["secret"], kid="web-1")


def exchanged(daily: Any, token: str) -> dict[str, Any]:
    answer = daily.client.post("/api/v1/sites/daily/sso/session", json={"token": token})
    assert answer.status_code == 200, answer.json
    return answer.json["user"]


def test_the_python_signer_in_the_readme_signs_a_reader_in(daily):
    namespace: dict[str, Any] = {"SSO_SECRET": daily.secret, "SSO_KID": daily.kid}
    exec(example("python"), namespace)  # noqa: S102 (the README's own code, as a site would run it)
    user = SimpleNamespace(id=42, name="Ada Lovelace", email="ada@example.org")
    token = namespace["engagement_token"](user)
    assert exchanged(daily, token) == {
        "id": "42",
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "url": None,
        "avatar": None,
    }
    assert daily.client.post("/api/v1/sites/daily/sso/session", json={"token": token}).status_code == 401


def test_the_php_signer_in_the_readme_signs_a_reader_in(daily, tmp_path):
    php = shutil.which("php")
    if php is None:
        unavailable("PHP (apt-get install -y php-cli)")
    script = tmp_path / "sign.php"
    script.write_text(
        f"<?php\nconst SSO_SECRET = '{daily.secret}';\nconst SSO_KID = '{daily.kid}';\n"
        + example("php")
        + "\necho engagement_token(['id' => 7, 'name' => 'Grace Hopper', 'email' => 'grace@example.org']);\n",
        encoding="utf-8",
    )
    signed = subprocess.run([php, str(script)], capture_output=True, text=True, timeout=30, check=True)
    user = exchanged(daily, signed.stdout.strip())
    assert (user["id"], user["name"], user["email"]) == ("7", "Grace Hopper", "grace@example.org")
