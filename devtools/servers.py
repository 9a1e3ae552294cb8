"""Start and stop gunicorn servers on free localhost ports (the benchmark and the load tests use these)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_SECRET = "bench-secret-key-not-for-production"


def free_port() -> int:
    """A port nothing listens on right now (the kernel picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server: its master and worker processes (from /proc).

        Unlike requests per second, CPU per request does not depend on what else the machine runs.
        """
        pids = [self.process.pid] + [
            int(stat.parent.name)
            for stat in Path("/proc").glob("[0-9]*/stat")
            if _parent_pid(stat) == self.process.pid
        ]
        return sum(_cpu_seconds(pid) for pid in pids)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 35) -> int:
        """SIGTERM (gunicorn's graceful shutdown), then SIGKILL if it outlives ``timeout``."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _stat_fields(path: Path) -> list[str]:
    try:
        # The command name (field 2) may hold spaces; the fields after it are space-separated.
        return path.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _parent_pid(stat: Path) -> int | None:
    fields = _stat_fields(stat)
    return int(fields[1]) if fields else None


def _cpu_seconds(pid: int) -> float:
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    # utime and stime (fields 14 and 15 of the whole line) in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def start(
    name: str,
    command: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str],
    log_dir: Path,
    ready_path: str = "/healthz",
    timeout: float = 30,
    cwd: Path = ROOT,
) -> Server:
    """Run ``command`` (a server bound to ``port``) in ``cwd`` and wait until ``ready_path`` answers."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C on the bench must not hit the servers mid-measurement
        )
    server = Server(name=name, port=port, process=process, log_path=log_path)

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log()[-3000:]}")
        return answers(port, ready_path)

    if not wait_until(ready, timeout):
        server.stop()
        raise RuntimeError(f"{name} did not answer {ready_path} within {timeout}s:\n{server.log()[-3000:]}")
    return server


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (False): for processes
    starting up, which say nothing when they are ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def answers(port: int, path: str) -> bool:
    """True once something on ``port`` answers ``GET path`` with any HTTP status below 500."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status < 500
    except OSError:
        return False
    finally:
        connection.close()


def service_environment(
    *, port: int, database_url: str, workers: int = 2, secret_key: str = BENCH_SECRET, **settings: str
) -> dict[str, str]:
    """The environment gunicorn.conf.py and the app read, for a server on ``port``; ``settings`` are
    further ``ENGAGEMENT_*`` variables without the prefix (``RATELIMIT_ENABLED="false"``)."""
    return {
        "ENGAGEMENT_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "ENGAGEMENT_ENV": "production",
        "ENGAGEMENT_DATABASE_URL": database_url,
        "ENGAGEMENT_SECRET_KEY": secret_key,
        "ENGAGEMENT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # Empty: gunicorn.conf.py makes a metrics directory of this server's own.
        "PROMETHEUS_MULTIPROC_DIR": "",
        **{f"ENGAGEMENT_{name}": value for name, value in settings.items()},
    }


def gunicorn_command(python: str, *args: str) -> list[str]:
    """Our production gunicorn config, run by ``python``; ``args`` may name another app (the hello app)."""
    return [python, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), *args]


def start_service(
    name: str,
    *,
    database_url: str,
    log_dir: Path,
    app: str | None = None,
    workers: int = 2,
    secret_key: str = BENCH_SECRET,
    **settings: str,
) -> Server:
    """gunicorn with our gunicorn.conf.py on a free port, serving the service (or ``app``, such as
    ``bench.hello:app``) with further ``ENGAGEMENT_*`` ``settings``; ready when it answers."""
    port = free_port()
    return start(
        name,
        gunicorn_command(sys.executable, *([app] if app else [])),
        port=port,
        env=service_environment(
            port=port, database_url=database_url, workers=workers, secret_key=secret_key, **settings
        ),
        log_dir=log_dir,
        ready_path="/healthz" if app is None else "/",
    )
