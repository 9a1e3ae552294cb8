"""Isso 0.14, the peer: installed from PyPI into its own virtualenv, configured as a site would run it
with the spam guard and moderation off, and served by gunicorn as Isso's own Dockerfile does
(``gunicorn -b ... -w N --preload isso.run --worker-tmp-dir /dev/shm`` with ``ISSO_SETTINGS``)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from devtools import servers

REQUIREMENTS = ("isso==0.14.0", "gunicorn==27.0.1")
VENV = servers.ROOT / "bench" / "isso-venv"
PYTHON = VENV / "bin" / "python"


class IssoUnavailable(RuntimeError):
    """Isso could not be installed or started here; the bench records why and goes on without it."""


def ensure_installed() -> None:
    """Create the virtualenv and install Isso unless it is already there."""
    if PYTHON.exists() and _run([str(PYTHON), "-c", "import isso.run"], check=False).returncode == 0:
        return
    try:
        _run([sys.executable, "-m", "venv", str(VENV)])
        _run([str(PYTHON), "-m", "pip", "install", "--quiet", *REQUIREMENTS])
    except subprocess.CalledProcessError as error:
        raise IssoUnavailable(f"installing {' '.join(REQUIREMENTS)} failed: {error.stderr[-2000:]}") from None


def _run(command: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=check, cwd=servers.ROOT)


def settings_file(directory: Path, port: int, *, pages: Sequence[str] = ()) -> Path:
    """Isso's ini settings: one website, no spam guard (it would refuse a load test), no moderation.
    ``pages``: further origins of pages that embed it (Isso answers their CORS requests)."""
    path = directory / "isso.cfg"
    path.write_text(
        "\n".join(
            [
                "[general]",
                f"dbpath = {directory / 'isso.db'}",
                "host =",
                *(f"    {origin}/" for origin in (f"http://127.0.0.1:{port}", *pages)),
                "[moderation]",
                "enabled = false",
                "[guard]",
                "enabled = false",
                "[server]",
                f"listen = http://127.0.0.1:{port}/",
                "",
            ]
        )
    )
    return path


def seed(settings: Path) -> None:
    """The same conversations as the service's, written by ``bench.isso_seed`` inside Isso's venv."""
    try:
        _run([str(PYTHON), "-m", "bench.isso_seed", str(settings)])
    except subprocess.CalledProcessError as error:
        raise IssoUnavailable(f"seeding Isso failed: {error.stderr[-2000:]}") from None


def start(settings: Path, *, port: int, workers: int, log_dir: Path) -> servers.Server:
    command = [
        str(VENV / "bin" / "gunicorn"),
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--preload",
        "isso.run",
        "--worker-tmp-dir",
        "/dev/shm",
    ]
    try:
        # In its own directory: gunicorn reads ./gunicorn.conf.py, and ours is not Isso's.
        return servers.start(
            "isso",
            command,
            port=port,
            env={"ISSO_SETTINGS": str(settings), "PYTHONPATH": ""},
            log_dir=log_dir,
            ready_path="/config",
            cwd=settings.parent,
        )
    except RuntimeError as error:
        raise IssoUnavailable(str(error)) from None


def embed_script() -> bytes:
    """Isso's minified client, as the isso package ships it."""
    found = sorted(VENV.glob("lib/python*/site-packages/isso/js/embed.min.js"))
    if not found:
        raise IssoUnavailable("embed.min.js not found in Isso's package")
    return found[0].read_bytes()
