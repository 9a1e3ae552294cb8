"""Outgoing HTTP to addresses that staff type in (webhook endpoints; later, platform APIs): an HTTP client
that cannot be turned against the service's own network.

A URL staff give is attacker-chosen input as far as the network is concerned: ``http://169.254.169.254/``
reads a cloud host's credentials, ``http://localhost:6379/`` talks to Redis, and a public name can resolve
to 10.0.0.5 (or to a public address when checked and a private one when used). So the check happens where
the connection is made, not on the URL:

- every address the host name resolves to must be public (not loopback, private, link-local, shared,
  reserved, multicast or unspecified, IPv4-mapped ones judged as IPv4); one that is not refuses the request;
- the connection goes to an address that was checked (no second lookup in between);
- redirects are never followed (a 30x to an internal address is just an answer), proxies from the
  environment are ignored.

``allow_private`` (``ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE``) lifts the address check for intranets and tests.
TLS still verifies the certificate against the URL's host name: only the TCP connection is pinned.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx


class NonPublicAddress(httpcore.ConnectError):
    """The host resolves (also) to an address outside the public internet."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _CheckedBackend(httpcore.SyncBackend):
    """Resolves once, checks every address, connects to a checked one."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if not self.allow_private:
            refused = [address for address in addresses if not is_public_address(address)]
            if refused or not addresses:
                raise NonPublicAddress(f"{host} resolves to a non-public address ({', '.join(refused)})")
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host}: no address to connect to")


class CheckedTransport(httpx.HTTPTransport):
    """httpx's own transport over a connection pool whose TCP connections go through ``_CheckedBackend``."""

    def __init__(self, *, allow_private: bool) -> None:
        super().__init__(trust_env=False)
        # httpx builds its pool without a way to pass a network backend; the pool is all it uses it for,
        # and tests/test_outbound.py fails if that ever changes.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_CheckedBackend(allow_private=allow_private),
            max_connections=10,
        )


def checked_client(*, timeout: float, allow_private: bool) -> httpx.Client:
    """A client for addresses staff configure: checked connections, no redirects, no proxies."""
    return httpx.Client(
        transport=CheckedTransport(allow_private=allow_private),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


def refused_as_non_public(error: BaseException) -> bool:
    """Whether an httpx error is this module's refusal (httpx wraps the transport's own exception)."""
    return isinstance(error, NonPublicAddress) or isinstance(error.__cause__, NonPublicAddress)
