"""Admin endpoints for a site's webhooks under /api/v1/moderation/sites/<site>/webhooks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint

from engagement.api import arguments, response, staff_doc
from engagement.models import WebhookEndpoint
from engagement.staff.auth import current_staff
from engagement.webhooks import schemas, service

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1/moderation/sites/<site>/webhooks")
TAGS = ["webhooks"]


@bp.before_request
def authenticate() -> None:
    current_staff()


@bp.get("")
@staff_doc("A site's webhook endpoints (admins)", tags=TAGS, errors=(404,))
@response(200, schemas.EndpointListSchema)
def list_endpoints(site: str) -> dict[str, Any]:
    return {"items": service.list_endpoints(token=current_staff(), slug=site)}


@bp.post("")
@staff_doc("Register a webhook endpoint; its secret is answered this once (admins)", tags=TAGS, errors=(404,))
@arguments(schemas.CreateEndpointSchema)
@response(201, schemas.EndpointWithSecretSchema)
def create_endpoint(new: dict[str, Any], site: str) -> tuple[dict[str, Any], int]:
    endpoint, secret = service.create_endpoint(token=current_staff(), slug=site, **new)
    return {"endpoint": endpoint, "secret": secret}, 201


@bp.patch("/<int:endpoint_id>")
@staff_doc("Change an endpoint's address, events, description or state (admins)", tags=TAGS, errors=(404,))
@arguments(schemas.UpdateEndpointSchema)
@response(200, schemas.EndpointSchema)
def update_endpoint(changes: dict[str, Any], site: str, endpoint_id: int) -> WebhookEndpoint:
    return service.update_endpoint(token=current_staff(), slug=site, endpoint_id=endpoint_id, **changes)


@bp.delete("/<int:endpoint_id>")
@staff_doc("Remove an endpoint and its queued deliveries (admins)", tags=TAGS, errors=(404,))
@response(204)
def delete_endpoint(site: str, endpoint_id: int) -> None:
    service.delete_endpoint(token=current_staff(), slug=site, endpoint_id=endpoint_id)


@bp.post("/<int:endpoint_id>/rotate")
@staff_doc(
    "A new secret (answered once); the old one keeps signing beside it for the overlap (admins)",
    tags=TAGS,
    errors=(404,),
)
@arguments(schemas.RotateSecretSchema)
@response(200, schemas.EndpointWithSecretSchema)
def rotate_secret(rotation: dict[str, Any], site: str, endpoint_id: int) -> dict[str, Any]:
    endpoint, secret = service.rotate_secret(
        token=current_staff(),
        slug=site,
        endpoint_id=endpoint_id,
        overlap=timedelta(hours=rotation["overlap_hours"]),
    )
    return {"endpoint": endpoint, "secret": secret}


@bp.get("/<int:endpoint_id>/attempts")
@staff_doc("An endpoint's last 100 delivery attempts, newest first (admins)", tags=TAGS, errors=(404,))
@response(200, schemas.AttemptListSchema)
def attempts(site: str, endpoint_id: int) -> dict[str, Any]:
    return {"items": service.recent_attempts(token=current_staff(), slug=site, endpoint_id=endpoint_id)}


@bp.get("/<int:endpoint_id>/deliveries")
@staff_doc("An endpoint's deliveries, newest first (admins)", tags=TAGS, errors=(404,))
@arguments(schemas.DeliveriesQuery, location="query")
@response(200, schemas.DeliveryListSchema)
def deliveries(args: dict[str, Any], site: str, endpoint_id: int) -> dict[str, Any]:
    return {"items": service.deliveries(token=current_staff(), slug=site, endpoint_id=endpoint_id, **args)}


@bp.post("/<int:endpoint_id>/replay")
@staff_doc(
    "Queue again one delivery (delivery_id), everything since a time (since), or all (admins)",
    tags=TAGS,
    errors=(404,),
)
@arguments(schemas.ReplaySchema)
@response(200, schemas.ReplayedSchema)
def replay(request: dict[str, Any], site: str, endpoint_id: int) -> dict[str, int]:
    replayed = service.replay(token=current_staff(), slug=site, endpoint_id=endpoint_id, **request)
    return {"replayed": replayed}
