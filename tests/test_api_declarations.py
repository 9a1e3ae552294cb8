"""engagement.api: one declaration validates a view's input, shapes its answer and documents both."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask, Response
from marshmallow import Schema, fields

from engagement.api import alt_response, arguments, declaration_of, doc, response
from engagement.errors import register_error_handlers
from engagement.http import conditional
from engagement.openapi import build_spec


class NameQuery(Schema):
    name = fields.String(required=True)


class RenameSchema(Schema):
    to = fields.String(required=True)


class GreetingSchema(Schema):
    greeting = fields.String()


@pytest.fixture
def declared_app() -> Flask:
    app = Flask(__name__)
    register_error_handlers(app)
    bp = Blueprint("declared", __name__, url_prefix="/api/v1")

    @bp.post("/greetings/<int:number>")
    @doc("Greet", tags=["test"], errors=(404,))
    @arguments(NameQuery, location="query")
    @arguments(RenameSchema)
    @response(201, GreetingSchema)
    @alt_response(202, GreetingSchema, description="Held")
    def greet(query: dict[str, Any], rename: dict[str, Any], number: int) -> Any:
        greeting = {"greeting": f"{query['name']}>{rename['to']}#{number}", "unlisted": "dropped"}
        if number == 2:
            return greeting, 202, {"X-Held": "yes"}
        if number == 3:
            return greeting, 200  # not declared
        return greeting

    @bp.get("/etagged")
    @doc("Etagged", tags=["test"])
    @response(200, "text/plain")
    @alt_response(304)
    def etagged() -> Response:
        return conditional("abc.1", b"hello", mimetype="text/plain", cache_control="public, no-cache")

    app.register_blueprint(bp)
    return app


def test_arguments_reach_the_view_in_declaration_order_and_the_answer_is_dumped_with_its_schema(
    declared_app,
):
    answer = declared_app.test_client().post("/api/v1/greetings/1?name=ann", json={"to": "bob"})
    assert answer.status_code == 201
    assert answer.json == {"greeting": "ann>bob#1"}


def test_an_alternative_status_is_dumped_with_its_own_schema_and_keeps_its_headers(declared_app):
    answer = declared_app.test_client().post("/api/v1/greetings/2?name=ann", json={"to": "bob"})
    assert answer.status_code == 202
    assert answer.headers["X-Held"] == "yes"
    assert answer.json == {"greeting": "ann>bob#2"}


def test_an_undeclared_status_is_a_server_error_not_an_undocumented_answer(declared_app, caplog):
    answer = declared_app.test_client().post("/api/v1/greetings/3?name=ann", json={"to": "bob"})
    assert answer.status_code == 500
    assert "status 200 is not declared" in caplog.text


def test_arguments_answer_the_one_error_shape(declared_app):
    client = declared_app.test_client()
    missing_query = client.post("/api/v1/greetings/1", json={"to": "bob"})
    assert missing_query.status_code == 422
    assert missing_query.json["error"]["fields"] == {"name": ["Missing data for required field."]}
    not_json = client.post("/api/v1/greetings/1?name=ann", data="to=bob", content_type="text/plain")
    assert not_json.status_code == 415
    assert not_json.json["error"]["code"] == "unsupported_media_type"
    not_an_object = client.post("/api/v1/greetings/1?name=ann", json=[1])
    assert not_an_object.status_code == 400
    assert not_an_object.json["error"]["code"] == "invalid_json"


def test_the_document_is_built_from_the_declaration(declared_app):
    declaration = declaration_of(declared_app.view_functions["declared.greet"])
    assert [argument.location for argument in declaration.arguments] == ["query", "json"]
    operation = build_spec(declared_app)["paths"]["/api/v1/greetings/{number}"]["post"]
    assert operation["summary"] == "Greet"
    assert [p["in"] for p in operation["parameters"]] == ["path", "query"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Rename"
    }
    assert operation["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Greeting"
    }
    assert operation["responses"]["202"]["description"] == "Held"
    # What the arguments imply (a body: 400/413/415/422), what the view says (404), and 429/503.
    assert {"400", "404", "413", "415", "422", "429", "503"} <= set(operation["responses"])


def test_a_view_without_a_summary_cannot_enter_the_document():
    app = Flask(__name__)

    @app.get("/api/v1/nameless")
    @response(200, GreetingSchema)
    def nameless() -> dict[str, Any]:
        return {}

    with pytest.raises(ValueError, match="nameless declares no @doc summary"):
        build_spec(app)


def test_conditional_answers_304_to_a_weak_or_strong_match_and_200_otherwise(declared_app):
    client = declared_app.test_client()
    fresh = client.get("/api/v1/etagged")
    assert (fresh.status_code, fresh.data, fresh.headers["ETag"]) == (200, b"hello", '"abc.1"')
    assert fresh.headers["Cache-Control"] == "public, no-cache"
    for tag in ('"abc.1"', 'W/"abc.1"', '"other", "abc.1"', "*"):
        revalidated = client.get("/api/v1/etagged", headers={"If-None-Match": tag})
        assert (revalidated.status_code, revalidated.data) == (304, b""), tag
        assert revalidated.headers["ETag"] == '"abc.1"'
        assert revalidated.headers["Cache-Control"] == "public, no-cache"
    assert client.get("/api/v1/etagged", headers={"If-None-Match": '"abc.2"'}).status_code == 200
