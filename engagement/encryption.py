"""Secrets the service must read back (a site's Akismet key, webhook and single sign-on secrets, counter
feeds' platform credentials): encrypted at rest with Fernet.

The Fernet key is derived from ``SECRET_KEY`` with HKDF (SHA-256, its own ``info`` label), so no second
secret has to be deployed and the derived key is good for this one purpose only.

Rotating ``SECRET_KEY``: put the old one in ``ENGAGEMENT_OLD_SECRET_KEYS`` (comma-separated, newest first).
Stored secrets then still decrypt (MultiFernet tries each key) and every new one is encrypted under the
new key; ``flask engagement rotate-secrets`` re-encrypts the stored ones under it, after which the old key
can go. A secret no configured key opens reads as absent (an Akismet key or a feed's credentials must then
be given again).
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_PURPOSE = b"engagement: stored secrets (Fernet) v1"


@functools.lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


@functools.lru_cache(maxsize=4)
def _keys(secret_key: str, old_keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet(key) for key in (secret_key, *old_keys)])


def _current() -> MultiFernet:
    return _keys(current_app.config["SECRET_KEY"], tuple(current_app.config["OLD_SECRET_KEYS"]))


def encrypt_secret(plain: str) -> str:
    """The secret as a Fernet token (ASCII), to store: always under the current key."""
    return _current().encrypt(plain.encode()).decode("ascii")


def decrypt_secret(token: str | None) -> str | None:
    """The stored secret in clear, or None when there is none or no configured key opens it."""
    if not token:
        return None
    return _decrypt(_current(), token)


@functools.lru_cache(maxsize=256)
def _decrypt(keys: MultiFernet, token: str) -> str | None:
    # Cached: each post on a site with its own key reads it; a token names one value forever.
    try:
        return keys.decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None


def rotated(token: str | None) -> str | None:
    """The token re-encrypted under the current key (None stays None); a token no key opens is kept as it
    is (``rotate-secrets`` reports it)."""
    if not token:
        return token
    try:
        return _current().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        return token
