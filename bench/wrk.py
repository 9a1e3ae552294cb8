"""Drive a server with wrk (Debian's package) and read its numbers back as a ``Measurement``."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
RESULT_PREFIX = "WRK_RESULT "


@dataclass(frozen=True)
class Request:
    """One request shape; ``{n}`` in the path, body or a header value becomes unique per request."""

    path: str
    method: str = "GET"
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Measurement:
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, timeouts and answers of 400 or more
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_binary() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install -y wrk)")
    return path


def measure(base_url: str, request: Request, *, connections: int, seconds: int, run_id: str) -> Measurement:
    """Run wrk for ``seconds`` with ``connections`` open connections against one request shape."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write((LUA / "request.lua").read_text() + "\n" + (LUA / "report.lua").read_text())
    try:
        headers = [part for pair in request.headers for part in pair]
        command = [
            wrk_binary(),
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            script.name,
            base_url,
            "--",
            run_id,
            request.method,
            request.path,
            request.body,
            *headers,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    finally:
        Path(script.name).unlink()
    line = next((x for x in completed.stdout.splitlines() if x.startswith(RESULT_PREFIX)), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr or completed.stdout}")
    raw = json.loads(line[len(RESULT_PREFIX) :])
    bad_answers = sum(count for status, count in raw["statuses"].items() if int(status) >= 400)
    return Measurement(
        connections=connections,
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=bad_answers + sum(raw["socket_errors"].values()),
        statuses=raw["statuses"],
    )
