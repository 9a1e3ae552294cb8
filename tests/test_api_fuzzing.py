"""Schemathesis against our own OpenAPI document: every public and moderation operation, with generated
valid and invalid requests, answers without a server error and as documented (status, media type, body).

Bounded: ``MAX_EXAMPLES`` generated requests per operation. Requests carry an admin token, so moderation
operations are exercised past authentication, against a site with a thread of real comments.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engagement import create_app
from engagement.models import StaffRole
from engagement.staff.service import create_token
from tests.conftest import TEST_SECRET
from tests.factories import make_site, post

MAX_EXAMPLES = 25
SITE = "fuzz"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _load_schema() -> schemathesis.BaseSchema:
    """The document as the app serves it (building it touches no database)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": TEST_SECRET, "TESTING": True})
    return schemathesis.openapi.from_dict(app.test_client().get("/api/v1/openapi.json").get_json())


# The JSON API and the badges. The /mail and /privacy link pages are HTML for people (and owned by
# those features' own tests).
schema = _load_schema().include(path_regex="^/(api|badges)/")


@pytest.fixture
def staff_authorization(app, client) -> str:
    """A site with comments and an admin token in this test's database; the token's header value."""
    make_site(SITE)
    for _ in range(3):
        post(client, site=SITE)
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="fuzzer")
    return f"Bearer {secret}"


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_generated_requests_as_documented_and_never_with_5xx(
    case, app, staff_authorization
):
    if "site" in case.path_parameters:
        case.path_parameters["site"] = SITE  # an unknown site would stop every request at 404
    case.call_and_validate(app=app, headers={"Authorization": staff_authorization}, checks=CHECKS)


# -- what the fuzzer found, kept as examples ----------------------------------------------------------

TOO_BIG = 2**31  # one past PostgreSQL's INTEGER; SQLite's driver overflowed at 2**63 (a 500 before)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/v1/moderation/comments/{TOO_BIG}"),
        ("DELETE", f"/api/v1/moderation/comments/{10**20}"),
        ("PATCH", f"/api/v1/sites/{SITE}/comments/{TOO_BIG}"),
        ("DELETE", f"/api/v1/sites/{SITE}/comments/{TOO_BIG}/likes"),
    ],
)
def test_an_id_in_the_path_beyond_the_database_range_is_a_404(client, staff_authorization, method, path):
    response = client.open(path, method=method, headers={"Authorization": staff_authorization})

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_ids_in_bodies_and_queries_beyond_the_database_range_are_validation_errors(
    client, staff_authorization
):
    staff = {"Authorization": staff_authorization}

    bulk = client.post(
        "/api/v1/moderation/comments/bulk", json={"ids": [TOO_BIG], "action": "spam"}, headers=staff
    )
    audit = client.get(f"/api/v1/moderation/audit?comment_id={TOO_BIG}", headers=staff)
    reply = post(client, site=SITE, parent_id=TOO_BIG)

    assert (bulk.status_code, audit.status_code, reply.status_code) == (422, 422, 422)
    assert list(reply.json["error"]["fields"]) == ["parent_id"]


def test_every_operation_with_a_validated_query_documents_its_422(client):
    spec = client.get("/api/v1/openapi.json").json

    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if any(p["in"] == "query" for p in operation["parameters"]) and "422" not in operation["responses"]
    ]
    assert undocumented == []
