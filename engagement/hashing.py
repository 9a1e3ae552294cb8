"""Keyed hashes for personal data we must match but never store in clear (IPs, reader ids, emails)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from flask import current_app


def keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA256 with the app secret; ``purpose`` keeps hashes of one kind useless for another."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def client_network(ip: str) -> str:
    """Whom every per-client rule counts (rate limits, flood, IP bans, reporters): an IPv4 address, or the /64
    network of an IPv6 one. A home line or a rented server is given a whole /64 and may send from any of its
    2^64 addresses, so a rule per IPv6 address was no rule: one person reached a report threshold, or got
    past a limit or a ban, by changing the address's last bits. An IPv4-mapped IPv6 address is its IPv4."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:  # not an address (a unix socket's peer, say): counted as it is
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def ip_hash(ip: str | None) -> str | None:
    """The stored form of a client's address: its ``client_network``, keyed."""
    return keyed_hash("ip", client_network(ip)) if ip else None


def ip_hashes(ip: str | None) -> tuple[str, ...]:
    """``ip_hash`` and, for an IPv6 address, the hash of the whole address, as IP bans and comments made
    before the /64 rule hold it (a ban of one of those addresses stays in force)."""
    if not ip:
        return ()
    network, whole = keyed_hash("ip", client_network(ip)), keyed_hash("ip", ip)
    return (network,) if whole == network else (network, whole)


def reader_hash(reader_id: str) -> str:
    return keyed_hash("reader", reader_id)


def avatar_hash(site_slug: str, email: str) -> str:
    """Identifies an avatar without exposing the email or a plain (rainbow-table-able) hash of it.
    Keyed by the site too (its slug, which a restore into another database keeps), so one person's
    avatars on two sites of an install cannot be linked."""
    return keyed_hash("avatar", f"{site_slug}\x00{email.strip().lower()}")[:32]
