"""Staff tokens as admins manage them: listed, issued (the secret shown once) and revoked.

Each use case is one transaction with its audit entries, committed once; each takes the staff token and
refuses or filters through engagement.staff.access.
"""

from __future__ import annotations

from engagement.errors import ValidationFailed
from engagement.models import (
    StaffRole,
    StaffToken,
)
from engagement.staff import access, members
from engagement.staff import service as staff


def list_tokens(*, token: StaffToken) -> list[StaffToken]:
    access.require_admin(token)
    return staff.list_tokens()


def create_token(
    *, token: StaffToken, role: str, site_slugs: list[str], label: str, member_email: str | None = None
) -> tuple[StaffToken, str]:
    """Issue a token, a machine's or (``member_email``) a live member's own (422 ``member`` otherwise)."""
    access.require_admin(token)
    member = members.live_member(member_email) if member_email else None
    if member_email and member is None:
        raise ValidationFailed({"member": [f"There is no live member {member_email!r}."]})
    return staff.create_token(
        role=StaffRole(role), site_slugs=site_slugs, label=label, actor=token.label, member=member
    )


def revoke_token(*, token: StaffToken, token_id: int) -> StaffToken:
    access.require_admin(token)
    return staff.revoke_token(token_id=token_id, actor=token.label)
