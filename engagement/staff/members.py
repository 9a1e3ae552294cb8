"""Staff members: the people behind the console. A member has an address (how they sign in), a display
name, a role and, as a moderator, the sites in their scope: the same role and scope model as tokens, so
``engagement.staff.access`` checks both alike. Revoking a member revokes their tokens too."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from sqlalchemy import select, update

from engagement import audit, clock
from engagement.errors import Conflict, NotFound, ValidationFailed
from engagement.extensions import db
from engagement.fields import SLUG, AuthorEmail, is_one_line
from engagement.models import StaffMember, StaffRole, StaffToken
from engagement.staff.service import sites_named

NAME_LENGTH = StaffMember.__table__.c.display_name.type.length


def _one_line_name(value: str) -> None:
    name = value.strip()
    if not name or len(name) > NAME_LENGTH or not is_one_line(name):
        raise ValidationError(f"Use 1-{NAME_LENGTH} characters, on one line.")


class NewMemberSchema(Schema):
    """A new member as the CLI and the console give one: every field's message is create_member's, since
    create_member validates through this schema."""

    email = AuthorEmail(required=True)
    display_name = fields.String(required=True, validate=_one_line_name)
    role = fields.String(required=True, validate=validate.OneOf([role.value for role in StaffRole]))
    sites = fields.List(fields.String(validate=SLUG), load_default=list)

    @validates_schema(skip_on_field_errors=False)  # every message at once, next to its field
    def moderators_need_sites(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("role") == StaffRole.MODERATOR and not data.get("sites"):
            raise ValidationError("A moderator needs at least one site.", "sites")

    @post_load
    def trimmed(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {**data, "display_name": data["display_name"].strip(), "role": StaffRole(data["role"])}


def normalized_email(raw: str) -> str:
    """The address as members are stored and looked up: syntax-checked and lower-cased (422 otherwise)."""
    try:
        return AuthorEmail().deserialize(raw)
    except ValidationError as error:
        raise ValidationFailed({"email": error.messages}) from None


def create_member(
    *, email: str, display_name: str, role: StaffRole | str, site_slugs: list[str], actor: str = "cli"
) -> StaffMember:
    """Add a member (422 with NewMemberSchema's messages, 409 when the address is taken, 404 for a site
    that does not exist); a moderator needs at least one site. Audited as ``actor``."""
    try:
        new = NewMemberSchema().load(
            {"email": email, "display_name": display_name, "role": role, "sites": site_slugs}
        )
    except ValidationError as error:
        raise ValidationFailed(error.messages) from None
    email, display_name, role = new["email"], new["display_name"], new["role"]
    if db.session.scalar(select(StaffMember.id).where(StaffMember.email == email)) is not None:
        raise Conflict("member_exists", f"There is already a member {email!r}.")
    sites = sites_named(new["sites"])
    member = StaffMember(
        email=email, display_name=display_name, role=role, sites=sites, created_at=clock.now()
    )
    db.session.add(member)
    db.session.flush()
    audit.record(
        actor=actor,
        action="member_created",
        site_id=None,
        details={"member_id": member.id, "role": role.value, "sites": new["sites"]},
    )
    db.session.commit()
    return member


def list_members() -> list[StaffMember]:
    """Every member, revoked or not, in the order they were added."""
    return list(db.session.scalars(select(StaffMember).order_by(StaffMember.id)))


def find_member(email: str) -> StaffMember | None:
    """The member with this address, revoked or not (None for an address that is not valid)."""
    try:
        email = normalized_email(email)
    except ValidationFailed:
        return None
    return db.session.scalar(select(StaffMember).where(StaffMember.email == email))


def live_member(email: str) -> StaffMember | None:
    """The member with this address, unless revoked."""
    member = find_member(email)
    return member if member is not None and member.revoked_at is None else None


def revoke_member(*, email: str, actor: str = "cli") -> StaffMember:
    """Revoke a member and every token they own: their console sessions end at their next request."""
    member = find_member(email)
    if member is None:
        raise NotFound("member_not_found", f"There is no member {email!r}.")
    if member.revoked_at is None:
        now = clock.now()
        member.revoked_at = now
        db.session.execute(
            update(StaffToken)
            .where(StaffToken.member_id == member.id, StaffToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        audit.record(actor=actor, action="member_revoked", site_id=None, details={"member_id": member.id})
        db.session.commit()
    return member
