"""Liveness and readiness probes."""

from flask import Blueprint, jsonify

from engagement.database import database_is_reachable
from engagement.errors import error_response

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up and serving; says nothing about its dependencies."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready when the database answers; load balancers take the instance out of rotation otherwise."""
    if not database_is_reachable():
        return error_response(503, "database_unavailable", "The database is not reachable.")
    return jsonify(status="ready")
