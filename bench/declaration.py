"""What declaring an endpoint costs a request: flask-smorest's ``@blp.arguments``/``@blp.response`` against
ours (``engagement.api``) and against a bare view, on a GET shaped like the hot comments list (a query
schema of four fields, an answer of ready-made bytes); and, for scale, the service's own comments list.

In process, through a plain WSGI call loop (no test client, no sockets), so what differs between the
variants is the declaration and nothing else. Run: ``python -m bench.declaration`` (flask-smorest must be
installed for its variant; it is skipped otherwise).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response

from engagement.api import arguments, response
from engagement.comments.schemas import CommentPageSchema, ListCommentsQuery
from engagement.errors import register_error_handlers

QUERY = "thread=the-article&sort=newest&limit=20"
PATH = "/api/v1/sites/demo/comments"
ANSWER = b'{"items": [], "next_cursor": null}\n' * 20
REQUESTS = 20_000
ROUNDS = 5


def _bare_app() -> Flask:
    app = Flask("bare")
    register_error_handlers(app)
    bp = Blueprint("comments", __name__, url_prefix="/api/v1/sites/<site>")

    @bp.get("/comments")
    def list_comments(site: str) -> Response:
        return Response(ANSWER, mimetype="application/json")

    app.register_blueprint(bp)
    return app


def _ours_app() -> Flask:
    app = Flask("ours")
    register_error_handlers(app)
    bp = Blueprint("comments", __name__, url_prefix="/api/v1/sites/<site>")

    @bp.get("/comments")
    @arguments(ListCommentsQuery, location="query")
    @response(200, CommentPageSchema)
    def list_comments(args: dict[str, Any], site: str) -> Response:
        assert args["limit"] == 20
        return Response(ANSWER, mimetype="application/json")

    app.register_blueprint(bp)
    return app


def _smorest_app() -> Flask | None:
    try:
        from flask_smorest import Api
        from flask_smorest import Blueprint as SmorestBlueprint
    except ImportError:
        return None
    app = Flask("smorest")
    app.config.update(API_TITLE="bench", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    blp = SmorestBlueprint("comments", __name__, url_prefix="/api/v1/sites/<site>")

    @blp.route("/comments")
    @blp.arguments(ListCommentsQuery, location="query")
    @blp.response(200, CommentPageSchema)
    def list_comments(args: dict[str, Any], site: str) -> Response:
        assert args["limit"] == 20
        return Response(ANSWER, mimetype="application/json")

    api.register_blueprint(blp)
    return app


def _service_app() -> tuple[Flask, str]:
    """The service itself, seeded with the demo site, rate limits off: its comments list, page cached."""
    from flask_migrate import upgrade

    from engagement import create_app
    from engagement.demo import THREAD_KEY, seed_demo

    database = f"{tempfile.mkdtemp(prefix='bench-declaration-')}/engagement.db"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "bench-declaration",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        seed_demo()
    return app, f"thread={THREAD_KEY}&sort=newest&limit=20"


def _environ(query: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": PATH,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "REMOTE_ADDR": "127.0.0.1",
    }


def microseconds_per_request(app: Flask, query: str = QUERY, requests: int = REQUESTS) -> float:
    """The median over ``ROUNDS`` rounds of ``requests`` sequential WSGI calls, in µs per request."""
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
        statuses.append(status)
        return lambda _data: None

    def one_round() -> float:
        started = time.perf_counter()
        for _ in range(requests):
            body = app.wsgi_app(_environ(query), start_response)
            b"".join(body)
            getattr(body, "close", lambda: None)()
        return (time.perf_counter() - started) / requests * 1e6

    one_round()  # warm: memo, page cache, imports
    assert statuses[-1].startswith("200"), statuses[-1]
    return statistics.median(one_round() for _ in range(ROUNDS))


def main() -> None:
    variants: list[tuple[str, Flask, str]] = [
        ("bare view", _bare_app(), QUERY),
        ("ours (engagement.api)", _ours_app(), QUERY),
    ]
    smorest = _smorest_app()
    if smorest is not None:
        variants.append(("flask-smorest", smorest, QUERY))
    service, service_query = _service_app()
    variants.append(("the service's GET comments", service, service_query))
    for label, app, query in variants:
        print(f"{label:32} {microseconds_per_request(app, query):8.1f} µs/request")


if __name__ == "__main__":
    main()
