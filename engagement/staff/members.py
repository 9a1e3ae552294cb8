"""Staff members: the people behind the console. A member has an address (how they sign in), a display
name, a role and, as a moderator, the sites in their scope: the same role and scope model as tokens, so
``engagement.staff.access`` checks both alike. Revoking a member revokes their tokens too."""

from __future__ import annotations

import re

from marshmallow import ValidationError
from sqlalchemy import select, update

from engagement import audit, clock
from engagement.errors import Conflict, NotFound, ValidationFailed
from engagement.extensions import db
from engagement.fields import AuthorEmail
from engagement.models import StaffMember, StaffRole, StaffToken
from engagement.staff.service import sites_named

NAME_LENGTH = StaffMember.__table__.c.display_name.type.length
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def normalized_email(raw: str) -> str:
    """The address as members are stored and looked up: syntax-checked and lower-cased (422 otherwise)."""
    try:
        return AuthorEmail().deserialize(raw)
    except ValidationError as error:
        raise ValidationFailed({"email": error.messages}) from None


def create_member(
    *, email: str, display_name: str, role: StaffRole, site_slugs: list[str], actor: str = "cli"
) -> StaffMember:
    """Add a member (409 when the address is taken); a moderator needs at least one site."""
    email = normalized_email(email)
    display_name = display_name.strip()
    if not display_name or len(display_name) > NAME_LENGTH or _CONTROL.search(display_name):
        raise ValidationFailed({"display_name": [f"Use 1-{NAME_LENGTH} characters, on one line."]})
    if role == StaffRole.MODERATOR and not site_slugs:
        raise ValidationFailed({"sites": ["A moderator needs at least one site."]})
    if db.session.scalar(select(StaffMember.id).where(StaffMember.email == email)) is not None:
        raise Conflict("member_exists", f"There is already a member {email!r}.")
    sites = sites_named(site_slugs)
    member = StaffMember(
        email=email, display_name=display_name, role=role, sites=sites, created_at=clock.now()
    )
    db.session.add(member)
    db.session.flush()
    audit.record(
        actor=actor,
        action="member_created",
        site_id=None,
        details={"member_id": member.id, "role": role.value, "sites": site_slugs},
    )
    db.session.commit()
    return member


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
