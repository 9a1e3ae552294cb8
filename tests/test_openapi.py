"""The OpenAPI document describes every API route."""

from __future__ import annotations

import re


def test_every_api_route_is_in_the_openapi_document(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/badges/")) or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method.lower()) not in documented:
                missing.append(f"{method} {path}")
    assert missing == []


def test_operations_reference_schemas_that_exist(client):
    spec = client.get("/api/v1/openapi.json").json
    schemas = set(spec["components"]["schemas"])
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', client.get("/api/v1/openapi.json").text))
    assert refs <= schemas
    post = spec["paths"]["/api/v1/sites/{site}/comments"]["post"]
    assert {"201", "202", "422", "429"} <= set(post["responses"])
    assert post["requestBody"]["content"]["application/json"]["schema"]


def test_edit_endpoints_declare_the_edit_token_scheme(client):
    spec = client.get("/api/v1/openapi.json").json
    patch = spec["paths"]["/api/v1/sites/{site}/comments/{comment_id}"]["patch"]
    assert patch["security"] == [{"editToken": []}]
    assert spec["components"]["securitySchemes"]["editToken"]["scheme"] == "bearer"


def test_the_console_is_not_part_of_the_api_document(app, client):
    # Issue 15: the console's pages and forms are for browsers; the API's document is unchanged by them.
    spec = client.get("/api/v1/openapi.json").json
    assert any(rule.rule.startswith("/console") for rule in app.url_map.iter_rules())
    assert [path for path in spec["paths"] if path.startswith("/console")] == []
