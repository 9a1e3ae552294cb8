"""Secrets the service must read back (a site's Akismet key): encrypted at rest with Fernet.

The Fernet key is derived from ``SECRET_KEY`` with HKDF (SHA-256, its own ``info`` label), so no second
secret has to be deployed and the derived key is good for this one purpose only. Rotating ``SECRET_KEY``
makes stored secrets unreadable: they read as absent (a site's Akismet key must then be set again).
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_PURPOSE = b"engagement: stored secrets (Fernet) v1"


@functools.lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_secret(plain: str) -> str:
    """The secret as a Fernet token (ASCII), to store."""
    return _fernet(current_app.config["SECRET_KEY"]).encrypt(plain.encode()).decode("ascii")


def decrypt_secret(token: str | None) -> str | None:
    """The stored secret in clear, or None when there is none or it was encrypted under another key."""
    if not token:
        return None
    return _decrypt(current_app.config["SECRET_KEY"], token)


@functools.lru_cache(maxsize=256)
def _decrypt(secret_key: str, token: str) -> str | None:
    # Cached: each post on a site with its own key reads it; a token names one value forever.
    try:
        return _fernet(secret_key).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None
