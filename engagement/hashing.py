"""Keyed hashes for personal data we must match but never store in clear (IPs, reader ids, emails)."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA256 with the app secret; ``purpose`` keeps hashes of one kind useless for another."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def ip_hash(ip: str | None) -> str | None:
    return keyed_hash("ip", ip) if ip else None


def reader_hash(reader_id: str) -> str:
    return keyed_hash("reader", reader_id)


def avatar_hash(site_slug: str, email: str) -> str:
    """Identifies an avatar without exposing the email or a plain (rainbow-table-able) hash of it.
    Keyed by the site too (its slug, which a restore into another database keeps), so one person's
    avatars on two sites of an install cannot be linked."""
    return keyed_hash("avatar", f"{site_slug}\x00{email.strip().lower()}")[:32]
