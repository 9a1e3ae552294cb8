"""The service under load and under faults: real gunicorn processes (2 sync workers, gunicorn.conf.py) on
localhost ports, one PostgreSQL database for the module, Redis servers of the tests' own; and one host
without Redis (4 workers on a SQLite database) for the limits its workers share.

Bounded: a few hundred requests per test, every client call with a timeout, every wait with a deadline.
PostgreSQL or redis-server missing: skip locally, fail in CI.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from devtools import servers
from engagement import create_app
from engagement.extensions import db
from engagement.sites.service import create_site
from tests.services import postgres_server_url, unavailable

pytestmark = pytest.mark.load

SITE = "loadtest"
API = f"/api/v1/sites/{SITE}"
CLIENT_TIMEOUT = 15  # seconds; a request still unanswered then counts as hung
SECRET = "load-test-secret-key-not-for-production"


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no HTTP answer at all (see ``error``)
    content_type: str = ""
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    error: str = ""

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def call(
    port: int, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None
) -> Answer:
    """One request on a new connection; connection failures and timeouts are answers too."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    payload = None if body is None else json.dumps(body)
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    try:
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        return Answer(
            status=response.status,
            content_type=response.getheader("Content-Type", ""),
            body=response.read(),
            headers=tuple(response.getheaders()),
        )
    except (OSError, http.client.HTTPException) as error:
        return Answer(status=0, error=f"{type(error).__name__}: {error}")
    finally:
        connection.close()


def new_comment(thread: str, number: int, **extra: Any) -> dict[str, Any]:
    return {
        "thread": thread,
        "author_name": f"Reader {number}",
        "author_email": f"reader{number}.{uuid.uuid4().hex[:6]}@example.org",
        "body": f"Comment number {number} on {thread}.",
        **extra,
    }


@dataclass
class Database:
    url: str
    engine: sa.Engine

    def comments(self, thread: str) -> list[sa.Row]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    sa.text(
                        "SELECT c.id, c.body, c.status FROM comments c JOIN threads t ON t.id = c.thread_id"
                        " WHERE t.key = :key"
                    ),
                    {"key": thread},
                )
            )

    def comment_count(self, thread: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT comment_count FROM threads WHERE key = :key"), {"key": thread}
            ).scalar_one()

    def terminate_app_connections(self, admin: sa.Engine) -> int:
        """``pg_terminate_backend`` on every connection to this database but our own; how many."""
        name = sa.engine.make_url(self.url).database
        with admin.connect() as connection:
            return len(
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                ).all()
            )


def migrate_with_an_open_site(url: str) -> None:
    """Migrate the database at ``url`` with `flask db upgrade`, as a release does, and create the site
    the tests use: no moderation, no flood control."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=servers.ROOT,
        env={**os.environ, "ENGAGEMENT_DATABASE_URL": url, "ENGAGEMENT_SECRET_KEY": SECRET},
        check=True,
        capture_output=True,
    )
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        create_site(
            slug=SITE, name="Load test", origins=[], settings={"moderation": "none", "flood_seconds": 0}
        )
        db.engine.dispose()


@pytest.fixture(scope="module")
def admin_engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine(postgres_server_url(), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def database(admin_engine: sa.Engine) -> Iterator[Database]:
    """A database of this module's own, migrated with `flask db upgrade`, with one open site."""
    name = f"engagement_load_{uuid.uuid4().hex[:10]}"
    with admin_engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin_engine.url.set(database=name).render_as_string(hide_password=False)
    try:
        migrate_with_an_open_site(url)
        # No pool: the fault test terminates every connection to this database but the admin's.
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        yield Database(url=url, engine=engine)
        engine.dispose()
    finally:
        with admin_engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def start_service(database: Database, tmp_path: Path) -> Iterator[Callable[..., servers.Server]]:
    """Start gunicorn (gunicorn.conf.py, 2 workers) on a free port with extra ``ENGAGEMENT_*`` settings."""
    started: list[servers.Server] = []

    def start(**settings: str) -> servers.Server:
        server = servers.start_service(
            f"gunicorn-{len(started)}",
            database_url=database.url,
            log_dir=tmp_path,
            secret_key=SECRET,
            **settings,
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def _responds(server: RedisServer) -> bool:
    try:
        return bool(server.client().ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def start_redis() -> Iterator[Callable[[], RedisServer]]:
    """A redis-server of the test's own on a free port: the shared one on 6379 is never touched."""
    binary = shutil.which("redis-server")
    started: list[RedisServer] = []

    def start() -> RedisServer:
        if binary is None:
            unavailable("redis-server (apt-get install -y redis-server)")
        port = servers.free_port()
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = RedisServer(port=port, process=process)
        started.append(server)
        assert servers.wait_until(lambda: _responds(server), timeout=10), "redis-server did not start"
        return server

    yield start
    for server in started:
        server.stop()


# -- many writers -------------------------------------------------------------------------------------


def test_concurrent_commenters_on_two_workers_are_each_stored_once_and_counted_exactly(
    start_service, database
):
    service = start_service(RATELIMIT_ENABLED="false")
    thread = "load/concurrent-commenters"  # new: the first posts race to create it

    def post(number: int) -> Answer:
        return call(service.port, "POST", f"{API}/comments", body=new_comment(thread, number))

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(post, range(240)))

    assert Counter(a.status for a in answers) == {201: 240}
    answered_ids = sorted(a.json()["comment"]["id"] for a in answers)
    stored = database.comments(thread)
    assert sorted(row.id for row in stored) == answered_ids
    assert Counter(row.body for row in stored).most_common(1)[0][1] == 1
    assert database.comment_count(thread) == 240
    counts = call(service.port, "GET", f"{API}/counts?thread={thread}").json()
    assert counts == {"counts": {thread: 240}}


# -- PostgreSQL connections killed --------------------------------------------------------------------


class Load:
    """Client threads calling ``request(number)`` in a loop until told to stop, recording every answer."""

    def __init__(self, request: Callable[[int], Answer], clients: int) -> None:
        self.request = request
        self.answers: list[Answer] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._numbers = iter(range(10**9))
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._changed:
                number = next(self._numbers)
            answer = self.request(number)
            with self._changed:
                self.answers.append(answer)
                self._changed.notify_all()

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def wait_for_answers(self, count: int, timeout: float = 30) -> None:
        """Block until ``count`` more answers have come in."""
        with self._changed:
            target = len(self.answers) + count
            assert self._changed.wait_for(lambda: len(self.answers) >= target, timeout), "load stalled"

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(CLIENT_TIMEOUT + 5)


def test_killed_database_connections_answer_503_json_and_the_service_recovers_without_restart(
    start_service, database, admin_engine
):
    service = start_service(RATELIMIT_ENABLED="false")
    thread = "load/connections-killed"
    call(service.port, "POST", f"{API}/comments", body=new_comment(thread, 0))

    def post_or_read(number: int) -> Answer:
        if number % 2:
            return call(service.port, "GET", f"{API}/comments?thread={thread}&limit=5")
        return call(service.port, "POST", f"{API}/comments", body=new_comment(thread, number))

    with Load(post_or_read, clients=8) as load:
        load.wait_for_answers(40)
        for _ in range(12):
            assert database.terminate_app_connections(admin_engine) >= 1
            load.wait_for_answers(15)
    answers = load.answers

    assert [a.error for a in answers if a.status == 0] == []  # nothing hung, nothing cut off
    assert set(Counter(a.status for a in answers)) <= {200, 201, 503}
    unavailable_answers = [a for a in answers if a.status == 503]
    assert unavailable_answers, "no request was caught by a killed connection"
    for answer in unavailable_answers:
        assert answer.content_type == "application/json"
        assert answer.json()["error"]["code"] == "database_unavailable"
        assert answer.header("Retry-After") == "5"

    # The same processes answer normally again: the pool pings and replaces dead connections.
    after = [call(service.port, "GET", f"{API}/comments?thread={thread}") for _ in range(10)]
    assert [a.status for a in after] == [200] * 10
    assert call(service.port, "GET", "/readyz").status == 200

    # Every acknowledged comment is stored, and the thread's count agrees with its rows: no comment was
    # written without its count, or the other way round.
    acknowledged = {a.json()["comment"]["id"] for a in answers if a.status == 201}
    stored = database.comments(thread)
    assert acknowledged <= {row.id for row in stored}
    assert database.comment_count(thread) == sum(1 for row in stored if row.status == "approved")
    # A post can commit and then lose its connection before answering (503): never more than that.
    failed_posts = sum(1 for a in unavailable_answers if b'"comment"' not in a.body)
    assert len(stored) - 1 - len(acknowledged) <= failed_posts


# -- Redis stopped ------------------------------------------------------------------------------------


def test_with_redis_stopped_rate_limits_fall_back_to_each_process_and_comments_still_post(
    start_service, start_redis
):
    redis_server = start_redis()
    service = start_service(
        REDIS_URL=redis_server.url,
        RATELIMIT_READ="20 per minute",
        RATELIMIT_POST_COMMENT="100 per minute",
    )
    thread = "load/redis-stopped"
    read = f"{API}/counts?thread={thread}"

    # With Redis, both workers share one budget: exactly 20 reads pass.
    shared = [call(service.port, "GET", read).status for _ in range(24)]
    assert shared == [200] * 20 + [429] * 4

    redis_server.stop()

    posts = [call(service.port, "POST", f"{API}/comments", body=new_comment(thread, n)) for n in range(5)]
    assert [a.status for a in posts] == [201] * 5
    badge = call(service.port, "GET", f"/badges/{SITE}/followers.svg")
    assert badge.status == 200
    # Each process now counts in its own memory: limits still bite, and nothing fails.
    degraded = [call(service.port, "GET", read) for _ in range(60)]
    statuses = Counter(a.status for a in degraded)
    assert set(statuses) == {200, 429}
    assert (
        20 <= statuses[200] <= 2 * 20 + 1
    )  # up to each worker's own 20, plus the call that found Redis gone
    limited = next(a for a in degraded if a.status == 429)
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited.header("Retry-After")


# -- SIGTERM ------------------------------------------------------------------------------------------


def _partial_post(port: int, thread: str) -> tuple[socket.socket, bytes]:
    """A comment POST whose headers and half of whose body are sent; returns the socket and the rest."""
    return _partial_request(port, f"{API}/comments", new_comment(thread, 1))


def _partial_request(port: int, path: str, payload: Any) -> tuple[socket.socket, bytes]:
    """A JSON POST whose headers and half of whose body are sent; returns the socket and the rest."""
    body = json.dumps(payload).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    client = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)
    client.sendall(head + body[: len(body) // 2])
    return client, body[len(body) // 2 :]


def _read_status(client: socket.socket) -> int:
    received = b""
    while b"\r\n" not in received:
        chunk = client.recv(4096)
        if not chunk:
            break
        received += chunk
    return int(received.split(b" ", 2)[1]) if received else 0


def test_sigterm_lets_a_request_in_flight_finish_and_its_comment_is_stored(start_service, database):
    service = start_service(RATELIMIT_ENABLED="false")
    thread = "load/sigterm-in-flight"
    slow, rest = _partial_post(service.port, thread)
    # Connections are accepted in order: once a later one is answered, a worker holds the slow one.
    assert call(service.port, "GET", "/healthz").status == 200

    service.process.send_signal(signal.SIGTERM)
    slow.sendall(rest)
    status = _read_status(slow)
    slow.close()

    assert status == 201
    assert len(database.comments(thread)) == 1
    assert service.process.wait(35) == 0


def test_sigterm_during_load_loses_no_accepted_comment(start_service, database):
    service = start_service(RATELIMIT_ENABLED="false")
    thread = "load/sigterm-under-load"

    def post(number: int) -> Answer:
        return call(service.port, "POST", f"{API}/comments", body=new_comment(thread, number))

    with Load(post, clients=8) as load:
        load.wait_for_answers(60)
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(35) == 0
    answers = load.answers

    # Answers are whole 201s; after the listener closes, new connections are refused or reset unanswered,
    # never left hanging.
    assert set(Counter(a.status for a in answers)) <= {201, 0}
    assert [a.error for a in answers if a.error.startswith("TimeoutError")] == []
    acknowledged = {a.json()["comment"]["id"] for a in answers if a.status == 201}
    assert acknowledged == {row.id for row in database.comments(thread)}
    assert database.comment_count(thread) == len(acknowledged)


# -- slow clients -------------------------------------------------------------------------------------


def _slow_client(port: int) -> socket.socket:
    """A slowloris connection: a request line and one header, and then nothing."""
    client = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)
    client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return client


def raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes that may not be HTTP at all; the answer's status, headers (lowercased names) and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


# What gunicorn refuses before the app sees a request: a request line or headers too long, bytes that are not
# HTTP, a bad length, a transfer coding it does not take.
REFUSED_BY_GUNICORN = [
    (
        b"GET /api/v1/sites/x/counts?thread=" + b"k" * 5000 + b" HTTP/1.1\r\nHost: h\r\n\r\n",
        414,
        "uri_too_long",
    ),
    (
        b"GET /healthz HTTP/1.1\r\nHost: h\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
        431,
        "headers_too_large",
    ),
    (
        b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(200)) + b"\r\n",
        431,
        "headers_too_large",
    ),
    (b"GARBAGE\r\n\r\n", 400, "bad_request"),
    (
        b"POST /api/v1/sites/x/comments HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
        400,
        "bad_request",
    ),
    (
        b"POST /healthz HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xyz, chunked\r\n\r\n",
        501,
        "not_implemented",
    ),
]


def test_what_gunicorn_refuses_before_the_app_is_answered_in_the_apis_json_shape(start_service):
    service = start_service()
    for request_bytes, status, code in REFUSED_BY_GUNICORN:
        answered, headers, body = raw_exchange(service.port, request_bytes)

        assert answered == status, request_bytes[:40]
        assert headers["content-type"] == "application/json" and int(headers["content-length"]) == len(body)
        error = json.loads(body)["error"]
        assert error["code"] == code and error["message"]
        assert b"kkkk" not in body and b"bbbb" not in body  # what the client sent is not echoed


def test_slow_clients_fewer_than_workers_leave_a_worker_for_everyone_else(start_service):
    service = start_service()
    slow = _slow_client(service.port)
    try:
        answers = [call(service.port, "GET", "/healthz").status for _ in range(20)]
    finally:
        slow.close()
    assert answers == [200] * 20


def test_as_many_slow_clients_as_sync_workers_hold_them_all_until_they_leave(start_service):
    """Why a buffering reverse proxy must sit in front (docs/scaling.md, "Slow clients"): each sync worker
    waits for its client's whole request, so two slow clients stop a two-worker instance."""
    service = start_service()
    slow = [_slow_client(service.port), _slow_client(service.port)]
    waiting = http.client.HTTPConnection("127.0.0.1", service.port, timeout=1.5)
    waiting.request("GET", "/healthz")
    with pytest.raises(TimeoutError):
        waiting.getresponse()
    waiting.close()

    for client in slow:
        client.close()
    assert call(service.port, "GET", "/healthz").status == 200


# -- one host without Redis: its workers share the rate limits ----------------------------------------


HOST_WORKERS = 4


@pytest.fixture(scope="module")
def host_without_redis(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[servers.Server, sa.Engine]]:
    """What `make run` starts: gunicorn with several workers on a SQLite database, no Redis, the rate-limit
    counters in their default file beside the database."""
    folder = tmp_path_factory.mktemp("host-without-redis")
    url = f"sqlite:///{folder / 'engagement.db'}"
    migrate_with_an_open_site(url)
    server = servers.start_service(
        "gunicorn-without-redis",
        database_url=url,
        log_dir=folder,
        workers=HOST_WORKERS,
        secret_key=SECRET,
        RATELIMIT_POST_COMMENT="10 per minute",
        RATELIMIT_SUBSCRIBE="100 per minute",
        RATELIMIT_MAIL_ADDRESS="3 per hour",
    )
    engine = sa.create_engine(url)
    try:
        yield server, engine
    finally:
        server.stop()
        engine.dispose()


def accept_queue(port: int) -> int | None:
    """How many connections wait to be accepted on the listening socket at 127.0.0.1:``port`` (Linux)."""
    local = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[3] == "0A":  # LISTEN: rx_queue is the accept queue
            return int(fields[4].split(":")[1], 16)
    return None


def through_every_worker(server: servers.Server, workers: int, path: str, payloads: list[Any]) -> list[int]:
    """POST each payload, as many at a time as the server has workers, each of them answered by another
    worker: the requests are sent half, and the rest only once the listener's accept queue is empty,
    that is once each was taken by a worker of its own (a sync worker takes one connection at a time
    and waits for its whole request)."""
    statuses = []
    for start in range(0, len(payloads), workers):
        held = [_partial_request(server.port, path, payload) for payload in payloads[start : start + workers]]
        assert servers.wait_until(lambda: accept_queue(server.port) == 0, timeout=30), "a worker never took"
        for client, rest in held:
            client.sendall(rest)
        for client, _ in held:
            statuses.append(_read_status(client))
            client.close()
    return statuses


def test_without_redis_the_workers_of_a_host_share_one_budget_for_comment_posts(host_without_redis):
    server, _ = host_without_redis
    thread = "load/one-host-limits"

    statuses = through_every_worker(
        server, HOST_WORKERS, f"{API}/comments", [new_comment(thread, n) for n in range(32)]
    )

    assert Counter(statuses) == {201: 10, 429: 22}


def test_without_redis_the_workers_of_a_host_mail_an_address_within_one_address_limit(host_without_redis):
    server, engine = host_without_redis
    email = "victim@example.org"
    payloads = [{"email": email, "target": f"section:s{n}"} for n in range(16)]

    statuses = through_every_worker(server, HOST_WORKERS, f"{API}/subscribers", payloads)

    assert Counter(statuses) == {202: 16}  # the same answer, mailed or not
    with engine.connect() as connection:
        outbox = connection.execute(
            sa.text("SELECT status, count(*) FROM outbox WHERE to_address = :email GROUP BY status"),
            {"email": email},
        )
        assert dict(outbox.all()) == {"queued": 3, "suppressed": 13}


# -- several instances, one PostgreSQL and one Redis --------------------------------------------------


@pytest.fixture
def two_instances(start_service, start_redis) -> tuple[servers.Server, servers.Server]:
    """Two gunicorn instances (2 workers each) on different ports, same database, same Redis."""
    shared_redis = start_redis()
    settings = {
        "REDIS_URL": shared_redis.url,
        "RATELIMIT_READ": "12 per minute",
        "RATELIMIT_POST_COMMENT": "3 per minute",
        "RATELIMIT_REACTION": "100 per minute",
    }
    return start_service(**settings), start_service(**settings)


def test_a_comment_posted_to_one_instance_is_read_from_the_other_at_once(two_instances):
    first, second = two_instances
    thread = "load/scale-out-read"
    page = f"{API}/comments?thread={thread}"
    call(first.port, "POST", f"{API}/comments", body=new_comment(thread, 1))
    assert len(call(second.port, "GET", page).json()["comments"]) == 1  # now cached on the second

    call(first.port, "POST", f"{API}/comments", body=new_comment(thread, 2))

    comments = call(second.port, "GET", page).json()["comments"]
    assert [c["author"]["name"] for c in comments] == ["Reader 1", "Reader 2"]
    assert call(second.port, "GET", f"{API}/counts?thread={thread}").json() == {"counts": {thread: 2}}


def test_a_follow_on_one_instance_shows_on_every_worker_of_the_other_at_once(two_instances):
    first, second = two_instances
    badge = f"/badges/{SITE}/fans.json?target=section:scale-out"
    before = {call(second.port, "GET", badge).json()["message"] for _ in range(4)}  # both workers cache it

    followed = call(
        first.port,
        "POST",
        f"{API}/engagement/fans?target=section:scale-out",
        headers={"X-Engagement-Reader": uuid.uuid4().hex},
    )

    assert followed.status == 200
    after = {call(second.port, "GET", badge).json()["message"] for _ in range(4)}
    assert (before, after) == ({"0"}, {"1"})


def test_rate_limits_hold_across_both_instances(two_instances):
    first, second = two_instances
    thread = "load/scale-out-limits"
    reads = [
        call(server.port, "GET", f"{API}/counts?thread={thread}").status
        for _ in range(8)
        for server in (first, second)
    ]
    posts = [
        call(server.port, "POST", f"{API}/comments", body=new_comment(thread, n)).status
        for n, server in enumerate((first, second, first, second, first))
    ]

    assert reads == [200] * 12 + [429] * 4
    assert posts == [201] * 3 + [429] * 2
