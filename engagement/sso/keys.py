"""A site's single sign-on keys: what its backend signs readers' tokens with, managed by admins.

A key verifies exactly one algorithm: an HS256 secret the service generates (answered once, stored
Fernet-encrypted, never returned again) or a public key the site gives (RS256: RSA of 2,048 bits or
more; EdDSA: Ed25519), so the service never holds the site's private key. Adding a key rotates: the
keys in use until then keep verifying for the grace period the admin chooses, then retire. Deleting one
revokes it at once, with every reader session it opened.

Every post of a signed-in reader checks its session's key, so a site's keys are cached in each process
and kept right by their change stamp (``caching``: the flush hook touches it when a key row changes).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import select

from engagement import audit, caching, clock
from engagement.encryption import decrypt_secret, encrypt_secret
from engagement.errors import Conflict, NotFound, UnprocessableValue
from engagement.extensions import db
from engagement.models import Site, SsoAlgorithm, SsoKey, StaffToken
from engagement.staff.access import require_admin, site_in_scope

SECRET_BYTES = 32
MIN_RSA_BITS = 2048
MAX_KEYS_PER_SITE = 10
MAX_GRACE = timedelta(days=30)
KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """What verifying a token needs of a key (immutable: one copy serves every request of the process)."""

    kid: str
    algorithm: str
    key: Any  # the HS256 secret's bytes, or a cryptography public key
    retires_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.retires_at is None or self.retires_at > now


def usable_keys(site_id: int, now: datetime) -> list[VerificationKey]:
    """The site's keys that verify at ``now`` (cached per process while none of its keys changed)."""
    keys = caching.cache("sso_keys").get(caching.sso_keys_key(site_id), lambda: _load_keys(site_id))
    return [key for key in keys if key.usable(now)]


def _load_keys(site_id: int) -> tuple[VerificationKey, ...]:
    rows = db.session.scalars(select(SsoKey).where(SsoKey.site_id == site_id).order_by(SsoKey.id))
    found = []
    for row in rows:
        if row.algorithm == SsoAlgorithm.HS256:
            secret = decrypt_secret(row.secret_encrypted)
            if secret is None:  # encrypted under a SECRET_KEY since rotated: unusable, as if absent
                continue
            material: Any = secret.encode()
        else:
            material = load_pem_public_key((row.public_key_pem or "").encode())
        found.append(VerificationKey(row.kid, row.algorithm, material, row.retires_at))
    return tuple(found)


def list_keys(*, token: StaffToken, slug: str) -> list[SsoKey]:
    site = _admin_site(token, slug)
    return list(db.session.scalars(select(SsoKey).where(SsoKey.site_id == site.id).order_by(SsoKey.id)))


def add_key(
    *,
    token: StaffToken,
    slug: str,
    algorithm: str,
    public_key: str | None,
    kid: str | None,
    grace: timedelta,
) -> tuple[SsoKey, str | None]:
    """A new key, and the HS256 secret answered this once (None for a public key). The site's keys in
    use until now retire after ``grace`` (at once when it is zero)."""
    site = _admin_site(token, slug)
    now = clock.now()
    existing = list(db.session.scalars(select(SsoKey).where(SsoKey.site_id == site.id)))
    live = [key for key in existing if key.retires_at is None or key.retires_at > now]
    if len(live) >= MAX_KEYS_PER_SITE:
        raise UnprocessableValue(
            "too_many_sso_keys", f"A site has at most {MAX_KEYS_PER_SITE} keys: delete retired ones first."
        )
    kid = kid or secrets.token_urlsafe(9)
    if any(key.kid == kid for key in existing):
        raise Conflict("sso_kid_taken", f"This site already has a key named {kid!r}.")
    secret = None
    row = SsoKey(site_id=site.id, kid=kid, algorithm=algorithm, created_by=token.label, created_at=now)
    if algorithm == SsoAlgorithm.HS256:
        if public_key:
            raise UnprocessableValue(
                "sso_key_not_expected", "An HS256 key is a secret the service makes: send no public key."
            )
        secret = secrets.token_urlsafe(SECRET_BYTES)
        row.secret_encrypted = encrypt_secret(secret)
    else:
        row.public_key_pem = _checked_public_key(algorithm, public_key)
    retire_at = now + min(grace, MAX_GRACE)
    for key in live:
        if key.retires_at is None or key.retires_at > retire_at:
            key.retires_at = retire_at
    db.session.add(row)
    audit.record(
        actor=token.label,
        action="sso_key_added",
        site_id=site.id,
        details={"kid": kid, "algorithm": algorithm, "retired": [key.kid for key in live]},
    )
    db.session.commit()
    return row, secret


def delete_key(*, token: StaffToken, slug: str, kid: str) -> None:
    """Revoke a key at once: tokens it signed and the reader sessions they opened stop working."""
    site = _admin_site(token, slug)
    row = db.session.scalar(select(SsoKey).where(SsoKey.site_id == site.id, SsoKey.kid == kid))
    if row is None:
        raise NotFound("sso_key_not_found", "This site has no key of that name.")
    db.session.delete(row)
    audit.record(actor=token.label, action="sso_key_deleted", site_id=site.id, details={"kid": kid})
    db.session.commit()


def _checked_public_key(algorithm: str, pem: str | None) -> str:
    if not pem or not pem.strip():
        raise _key_refused("sso_public_key_required", f"A {algorithm} key needs the site's public key (PEM).")
    try:
        loaded = load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError):
        raise _key_refused(
            "sso_public_key_invalid",
            "Send the public key as PEM (-----BEGIN PUBLIC KEY-----), never the private key.",
        ) from None
    if algorithm == SsoAlgorithm.RS256 and not (
        isinstance(loaded, RSAPublicKey) and loaded.key_size >= MIN_RSA_BITS
    ):
        raise _key_refused(
            "sso_public_key_invalid", f"RS256 needs an RSA public key of {MIN_RSA_BITS} bits or more."
        )
    if algorithm == SsoAlgorithm.EDDSA and not isinstance(loaded, Ed25519PublicKey):
        raise _key_refused("sso_public_key_invalid", "EdDSA needs an Ed25519 public key.")
    return pem.strip() + "\n"


def _key_refused(code: str, message: str) -> UnprocessableValue:
    return UnprocessableValue(code, message, fields={"public_key": [message]})


def _admin_site(token: StaffToken, slug: str) -> Site:
    require_admin(token)
    return site_in_scope(token, slug)
