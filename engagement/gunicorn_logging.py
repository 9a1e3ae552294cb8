"""gunicorn's access log, with the tokens of mailed links redacted like the app's own request log."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from engagement.observability import redact_path


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_path(atoms[key]) if key == "U" else _redact_request_line(atoms[key])
        return atoms


def _redact_request_line(line: str) -> str:
    method, _, rest = line.partition(" ")
    target, _, protocol = rest.partition(" ")
    return f"{method} {redact_path(target)} {protocol}"
