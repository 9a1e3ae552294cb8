"""The outgoing HTTP client for staff-configured addresses cannot reach the service's own network."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import httpx
import pytest

from engagement.outbound import checked_client, is_public_address, refused_as_non_public


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 (an address under test, not bound)
        ("192.0.2.1", False),  # documentation
        ("224.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:10.0.0.1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
    ],
)
def test_only_public_addresses_count_as_public(address, public):
    assert is_public_address(address) is public


class _Receiver(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"reached")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_loopback_address_or_a_name_resolving_to_one_is_refused(local_server, host):
    port = local_server.rsplit(":", 1)[1]
    with (
        checked_client(timeout=2, allow_private=False) as client,
        pytest.raises(httpx.ConnectError) as refused,
    ):
        client.get(f"http://{host}:{port}/")
    assert refused_as_non_public(refused.value)
    assert "non-public address" in str(refused.value)


def test_private_addresses_are_reached_when_allowed(local_server):
    with checked_client(timeout=2, allow_private=True) as client:
        assert client.get(f"http://{local_server}/").text == "reached"


def test_redirects_are_never_followed(local_server):
    with checked_client(timeout=2, allow_private=True) as client:
        answer = client.get(f"http://{local_server}/redirect")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("http://169.254.169.254/")


def test_a_name_that_does_not_resolve_is_a_connect_error_not_a_refusal():
    with (
        checked_client(timeout=2, allow_private=False) as client,
        pytest.raises(httpx.ConnectError) as failed,
    ):
        client.get("http://no-such-host.invalid/")
    assert not refused_as_non_public(failed.value)
