"""`make bench`: the service, Isso 0.14 and a Flask hello app, same machine, same run, driven by wrk;
and first the rendering of hostile comment bodies (bench/rendering.py).

    .venv/bin/python -m bench.run [--seconds 5] [--levels 1,16,64] [--no-isso] [--no-browser]
                                  [--only engagement_read,follow]

The service runs under gunicorn.conf.py (2 sync workers) on SQLite and, when
ENGAGEMENT_BENCH_DATABASE_URL names a PostgreSQL server, on a fresh database created there (and dropped
after). Rate limits are off (ENGAGEMENT_RATELIMIT_ENABLED=false), as behind a limiting proxy. Results go
to bench/results/bench-<time>.json and .png; the table and the goals are printed.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import browser, browser_compare, console, import_rate, isso, rendering, report, scale
from bench.databases import databases
from bench.seed import seed_service
from bench.wrk import Measurement, Request, measure
from devtools import servers
from devtools.conversations import COUNTS_PER_REQUEST, POST_THREAD, THREAD_10K, THREAD_200, thread_key

RESULTS = servers.ROOT / "bench" / "results"
WORKERS = 2
WARM_UP_SECONDS = 1
IDLE_CHECK_SECONDS = 0.3
MACHINE_QUIET_TIMEOUT = 30
API = "/api/v1/sites/demo"
JSON_TYPE = ("Content-Type", "application/json")
READER = ("X-Engagement-Reader", "0f3c9a2b7d1e4c5fa6b8c9d0e1f2a3b4")
ETAG_PLACEHOLDER = "{etag}"


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    ours: Request
    isso: Request | None = None


def _counted_threads() -> list[str]:
    return [thread_key(n) for n in range(COUNTS_PER_REQUEST)]


SCENARIOS = (
    Scenario(
        "read_first_page",
        "thread read, first page (200-comment thread)",
        Request(f"{API}/comments?thread={THREAD_200}"),
        Request(f"/?uri=/{THREAD_200}&limit=50"),
    ),
    Scenario(
        "read_full_200",
        "thread read, all 200 comments",
        Request(f"{API}/comments?thread={THREAD_200}&limit=200"),
        Request(f"/?uri=/{THREAD_200}"),
    ),
    Scenario(
        "read_304",
        "thread read answered 304",
        Request(f"{API}/comments?thread={THREAD_200}", headers=(("If-None-Match", ETAG_PLACEHOLDER),)),
    ),
    # What every open thread costs while it is read: the widget revalidates the newest page (live.js).
    Scenario(
        "live_poll_304",
        "live-update poll answered 304 (newest page)",
        Request(
            f"{API}/comments?thread={THREAD_200}&sort=newest&limit=50",
            headers=(("If-None-Match", ETAG_PLACEHOLDER),),
        ),
    ),
    # What live updates of the first page will cost (issue 20): the widget's first page, revalidated.
    Scenario(
        "live_first_page_304",
        "live poll of the first page answered 304",
        Request(
            f"{API}/comments?thread={THREAD_200}&sort=oldest",
            headers=(("If-None-Match", ETAG_PLACEHOLDER),),
        ),
    ),
    Scenario(
        "read_page_20",
        "thread read, 20-comment page",
        Request(f"{API}/comments?thread={THREAD_200}&limit=20"),
        Request(f"/?uri=/{THREAD_200}&limit=20"),
    ),
    Scenario(
        "read_10k_first_page",
        "first page of the 10,000-comment thread",
        Request(f"{API}/comments?thread={THREAD_10K}"),
        Request(f"/?uri=/{THREAD_10K}&limit=50"),
    ),
    Scenario(
        "post_comment",
        "post a comment",
        Request(
            f"{API}/comments",
            method="POST",
            body=json.dumps(
                {
                    "thread": POST_THREAD,
                    "author_name": "Bench {n}",
                    "author_email": "bench-{n}@example.org",
                    "body": "Load test comment {n} with *some* Markdown.",
                }
            ),
            headers=(JSON_TYPE,),
        ),
        Request(
            f"/new?uri=/{POST_THREAD}",
            method="POST",
            body=json.dumps(
                {
                    "text": "Load test comment {n} with *some* Markdown.",
                    "author": "Bench {n}",
                    "email": "bench-{n}@example.org",
                    "title": f"Article {POST_THREAD}",
                }
            ),
            headers=(JSON_TYPE,),
        ),
    ),
    Scenario(
        "counts_50",
        "comment counts of 50 threads",
        Request(f"{API}/counts?" + "&".join(f"thread={quote(k, safe='/')}" for k in _counted_threads())),
        Request(
            "/count",
            method="POST",
            body=json.dumps([f"/{k}" for k in _counted_threads()]),
            headers=(JSON_TYPE,),
        ),
    ),
    Scenario("badge_svg", "badge SVG", Request("/badges/demo/followers.svg")),
    # The Stay Connected block of every page view: the shared counts (the widget asks the reader's own
    # state apart, and only of a reader who may have one), then the same revalidated by its ETag.
    Scenario(
        "engagement_read",
        "Stay Connected counts read",
        Request(f"{API}/engagement?target=site"),
    ),
    Scenario(
        "engagement_304",
        "Stay Connected counts answered 304",
        Request(f"{API}/engagement?target=site", headers=(("If-None-Match", ETAG_PLACEHOLDER),)),
    ),
    Scenario(
        "engagement_reader",
        "Stay Connected, the reader's own state",
        Request(f"{API}/engagement/reader?target=site", headers=(READER,)),
    ),
    Scenario(
        "follow",
        "follow (a new reader each time)",
        Request(
            f"{API}/engagement/followers",
            method="POST",
            headers=(("X-Engagement-Reader", "bench-reader-{n}"),),
        ),
    ),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per scenario and level")
    parser.add_argument("--levels", default="1,16,64", help="concurrency levels (wrk connections)")
    parser.add_argument("--no-isso", action="store_true", help="skip Isso")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium time to first comment")
    parser.add_argument(
        "--scale-comments",
        type=int,
        default=1_000_000,
        help="comments in the scale scenario (bench/scale.py); 0 skips it",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenario names: only those (and the ceiling), without rendering, console, "
        "scale and import",
    )
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.levels.split(",")]
    only = {name for name in args.only.split(",") if name}
    unknown = only - {s.name for s in SCENARIOS}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    scenarios = [s for s in SCENARIOS if not only or s.name in only]

    started = datetime.now(UTC)
    results: dict[str, Any] = {
        "started_at": started.isoformat().replace("+00:00", "Z"),
        "machine": machine(),
        "settings": {"seconds": args.seconds, "levels": levels, "workers": WORKERS, "rate_limits": "off"},
        "scenarios": [{"name": s.name, "label": s.label, "isso": s.isso is not None} for s in scenarios],
        "runs": [],
        "isso": {"version": isso.REQUIREMENTS[0].split("==")[1], "error": None},
        "widget": {},
        "browser": {},
    }
    if not only:
        _say("== rendering the most expensive comment bodies (median CPU ms of 5 runs, in this process)")
        results["rendering"] = rendering.measure(runs=5, say=_say)
    run_id = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="engagement-bench-") as scratch:
        workdir = Path(scratch)
        for database, url in databases(workdir):
            _say(f"== engagement on {database}: seeding")
            seeded = seed_service(url, servers.BENCH_SECRET)
            _say(f"   {seeded.comments:,} comments in {seeded.threads:,} threads")
            server = servers.start_service(
                f"engagement-{database}",
                database_url=url,
                log_dir=workdir,
                workers=WORKERS,
                RATELIMIT_ENABLED="false",
            )
            try:
                for scenario in scenarios:
                    request = _with_etag(scenario.ours, server.port)
                    results["runs"] += _drive(
                        server, request, "engagement", database, scenario, levels, args, run_id
                    )
                if database == "sqlite" and not only:
                    results["widget"] = widget_sizes(server.port)
                    if not args.no_browser:
                        results["browser"] = first_comment(server.url)
            finally:
                server.stop()
        if not only:
            _say("== the staff console at 100,000 comments (bench/console.py)")
            results["console"] = {
                "timings": {
                    database: console.measure(url, say=_say)
                    for database, url in databases(workdir, "console")
                },
                "assets": console.assets_size(),
            }
        if args.scale_comments and not only:
            _say(f"== a newsroom's real size: {args.scale_comments:,} comments (bench/scale.py)")
            results["scale"] = {}
            for database, url in databases(workdir, "scale"):
                _say(f"== scale on {database}")
                results["scale"][database] = scale.run(url, args.scale_comments, say=_say)
        if not only:
            _say("== JSON import (restore) of 100,000 comments (bench/import_rate.py)")
            results["import"] = import_rate.run_in_child()
            for database, result in results["import"].items():
                _say(f"   {import_rate.line(database, result)}")
        if not args.no_browser and not only:
            results["reader_browser"] = reader_browser(workdir, with_isso=not args.no_isso)
        if not args.no_isso:
            results["runs"] += run_isso(workdir, levels, args, run_id, results, scenarios)
        results["runs"] += run_hello(workdir, levels, args, run_id)

    results["machine"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
    results["table"] = report.table(results)
    results["goals"] = [asdict(g) for g in report.goals(results)]
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"bench-{started:%Y%m%dT%H%M%SZ}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    report.chart(results, stem.with_suffix(".png"))
    print()
    print(results["table"])
    print()
    if results.get("scale"):
        print(report.scale_table(results["scale"]))
        print()
    print(report.goal_lines(report.goals(results)))
    print()
    print(summary_lines(results))
    print(f"\nwrote {stem.with_suffix('.json').relative_to(servers.ROOT)} and .png")
    return 0


def _say(message: str) -> None:
    print(message, flush=True)


def _drive(
    server: servers.Server,
    request: Request,
    name: str,
    database: str | None,
    scenario: Scenario,
    levels: list[int],
    args: argparse.Namespace,
    run_id: str,
) -> list[dict[str, Any]]:
    """Warm the workers up (not recorded), then one wrk run per concurrency level."""
    wait_until_idle(server)
    measure(server.url, request, connections=16, seconds=WARM_UP_SECONDS, run_id=f"{run_id}w{name[0]}")
    rows = []
    for level in levels:
        wait_until_idle(server)
        cpu_before = server.cpu_seconds()
        result = measure(
            server.url, request, connections=level, seconds=args.seconds, run_id=f"{run_id}{name[0]}{level}"
        )
        cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(result.requests, 1)
        rows.append({**_row(name, database, scenario.name, result), "cpu_ms_per_request": round(cpu_ms, 3)})
        _say(
            f"   {name:<10} {scenario.name:<20} c={level:<3} {result.rps:>8,.0f} req/s"
            f"  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:7.1f} ms  errors {result.errors}"
            f"  server CPU {cpu_ms:.2f} ms/req"
        )
    return rows


def wait_until_idle(server: servers.Server, timeout: float = 120) -> None:
    """Let the server finish what a previous run left queued: when wrk stops, the connections it opened
    are still in the listen backlog, and a sync worker serves each of them (seconds for Isso's reads).
    Then let the machine settle: PostgreSQL vacuums and checkpoints the rows a post scenario wrote for
    seconds after it, on the same two cores as the next point."""
    deadline = time.monotonic() + timeout
    used = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(IDLE_CHECK_SECONDS)
        now = server.cpu_seconds()
        if now - used < IDLE_CHECK_SECONDS * 0.05:  # under 5% of one core
            break
        used = now
    wait_until_machine_quiet()


def _busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (the first line of /proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def wait_until_machine_quiet(timeout: float = MACHINE_QUIET_TIMEOUT) -> None:
    """Until the whole machine uses under a fifth of one core, or ``timeout`` (a shared machine may
    never be quiet; the load average in the results tells)."""
    deadline = time.monotonic() + timeout
    used = _busy_seconds()
    while time.monotonic() < deadline:
        time.sleep(IDLE_CHECK_SECONDS)
        now = _busy_seconds()
        if now - used < IDLE_CHECK_SECONDS * 0.2:
            return
        used = now


def _row(server: str, database: str | None, scenario: str, result: Measurement) -> dict[str, Any]:
    return {
        "server": server,
        "database": database,
        "scenario": scenario,
        "connections": result.connections,
        "requests": result.requests,
        "seconds": round(result.seconds, 3),
        "rps": round(result.rps, 1),
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "errors": result.errors,
        "statuses": result.statuses,
    }


def _etag(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.headers["ETag"]
    finally:
        connection.close()


def _with_etag(request: Request, port: int) -> Request:
    """``request`` with the ETag its own path answers now in place of the placeholder."""
    if all(value != ETAG_PLACEHOLDER for _, value in request.headers):
        return request
    etag = _etag(port, request.path)
    headers = tuple((name, etag if value == ETAG_PLACEHOLDER else value) for name, value in request.headers)
    return Request(request.path, request.method, request.body, headers)


def run_isso(
    workdir: Path,
    levels: list[int],
    args: argparse.Namespace,
    run_id: str,
    results: dict[str, Any],
    scenarios: list[Scenario],
) -> list[dict[str, Any]]:
    """Isso's scenarios, or nothing (with the reason in the results) when it cannot run here."""
    rows: list[dict[str, Any]] = []
    if not any(scenario.isso is not None for scenario in scenarios):
        return rows
    _say("== Isso 0.14: installing (once), seeding")
    try:
        isso.ensure_installed()
        embed = isso.embed_script()
        results["widget"]["isso_embed_min_js"] = {"raw": len(embed), "gzip": len(gzip.compress(embed, 9))}
        directory = workdir / "isso"
        directory.mkdir()
        port = servers.free_port()
        settings = isso.settings_file(directory, port)
        isso.seed(settings)
        server = isso.start(settings, port=port, workers=WORKERS, log_dir=workdir)
    except isso.IssoUnavailable as error:
        results["isso"]["error"] = str(error)
        _say(f"   Isso unavailable, compared with nothing: {error}")
        return rows
    try:
        for scenario in scenarios:
            if scenario.isso is not None:
                rows += _drive(server, scenario.isso, "isso", "sqlite", scenario, levels, args, run_id)
    finally:
        server.stop()
    return rows


def run_hello(
    workdir: Path, levels: list[int], args: argparse.Namespace, run_id: str
) -> list[dict[str, Any]]:
    _say("== Flask hello under the same gunicorn config (the ceiling)")
    server = servers.start_service(
        "hello", database_url="sqlite://", log_dir=workdir, app="bench.hello:app", workers=WORKERS
    )
    hello = Scenario("hello", "Flask hello", Request("/"))
    try:
        return _drive(server, hello.ours, "hello", None, hello, levels, args, run_id)
    finally:
        server.stop()


def widget_sizes(port: int) -> dict[str, Any]:
    """Bytes of /widget.js as served, plain and gzipped."""
    sizes = {}
    for name, headers in (("raw", {}), ("gzip", {"Accept-Encoding": "gzip"})):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/widget.js", headers=headers)
            sizes[name] = len(connection.getresponse().read())
        finally:
            connection.close()
    return {"engagement_widget_js": sizes}


def first_comment(url: str) -> dict[str, Any]:
    _say("== time to first comment in headless Chromium (demo page, 200-comment thread)")
    try:
        timing = browser.time_to_first_comment(f"{url}/")
    except Exception as error:  # a missing browser must not lose the load numbers
        _say(f"   not measured: {error}")
        return {"error": str(error)}
    _say(f"   median {timing.median_ms:.0f} ms over {timing.runs_ms}")
    return asdict(timing)


def reader_browser(workdir: Path, *, with_isso: bool) -> dict[str, Any]:
    _say(
        "== the reader's browser against Isso: 200 comments, a host page of another origin (browser_compare)"
    )
    ways = browser_compare.WAYS if with_isso else tuple(w for w in browser_compare.WAYS if w != "isso")
    try:
        return browser_compare.run(workdir / "reader-browser", ways=ways, say=_say)
    except Exception as error:  # a missing browser or Isso must not lose the other numbers
        _say(f"   not measured: {error}")
        return {"error": str(error)}


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout.splitlines()
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.split(
        " ["
    )[0]
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": memory[1].split()[1] if len(memory) > 1 else "?",
        "python": platform.python_version(),
        "wrk": wrk_version,
        "kernel": platform.release(),
        # Other work on the machine skews every number: the 1-minute load average when the run began.
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


def summary_lines(results: dict[str, Any]) -> str:
    widget = results["widget"]
    lines = []
    ours = widget.get("engagement_widget_js")
    if ours:
        lines.append(f"widget.js: {ours['raw']:,} bytes, {ours['gzip']:,} gzipped")
    theirs = widget.get("isso_embed_min_js")
    if theirs:
        lines.append(f"Isso embed.min.js: {theirs['raw']:,} bytes, {theirs['gzip']:,} gzipped (gzip -9 here)")
    timing = results["browser"]
    if "median_ms" in timing:
        lines.append(
            f"time to first comment (Chromium, 200-comment thread): median {timing['median_ms']:.0f} ms"
        )
    if results["isso"]["error"]:
        lines.append(f"Isso not measured: {results['isso']['error']}")
    return "\n".join(lines)


if __name__ == "__main__":
    started = time.monotonic()
    status = main()
    print(f"bench took {time.monotonic() - started:.0f}s")
    sys.exit(status)
