"""Staff tokens as admins manage them: listed, issued (the secret shown once) and revoked.

Each use case is one transaction with its audit entries, committed once; each takes the staff token and
refuses or filters through engagement.staff.access.
"""

from __future__ import annotations

from engagement.models import (
    StaffRole,
    StaffToken,
)
from engagement.staff import access
from engagement.staff import service as staff


def list_tokens(*, token: StaffToken) -> list[StaffToken]:
    access.require_admin(token)
    return staff.list_tokens()


def create_token(
    *, token: StaffToken, role: str, site_slugs: list[str], label: str
) -> tuple[StaffToken, str]:
    access.require_admin(token)
    return staff.create_token(role=StaffRole(role), site_slugs=site_slugs, label=label, actor=token.label)


def revoke_token(*, token: StaffToken, token_id: int) -> StaffToken:
    access.require_admin(token)
    return staff.revoke_token(token_id=token_id, actor=token.label)
