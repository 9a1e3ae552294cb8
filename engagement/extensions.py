"""Extensions, created unbound and bound to the app in ``create_app``."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from engagement.hashing import client_network, keyed_hash
from engagement.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True)


def _client_key() -> str:
    """Whom a limit counts: the client's network (``client_network``: an IPv4 address, an IPv6 /64), as a
    keyed hash, so that no store of counters (Redis, the host's file) holds IPs in clear. ProxyFix (per
    ENGAGEMENT_TRUSTED_PROXIES) has already set remote_addr from the trusted hops only."""
    return keyed_hash("rate-limit", client_network(get_remote_address()))


limiter = Limiter(key_func=_client_key, default_limits=[])


def rate_limit(setting: str, *, shared_scope: str | None = None) -> Callable[[Callable[..., Any]], Any]:
    """Limit a view to the app's ``setting`` (``"20 per minute"``) per client IP; with ``shared_scope``,
    one budget for every view so decorated. With ``RATELIMIT_ENABLED`` off the view is called directly:
    Flask-Limiter's own wrapper would still filter and evaluate limits on every request."""

    def limit_value() -> str:
        return current_app.config[setting]

    limit = (
        limiter.shared_limit(limit_value, scope=shared_scope) if shared_scope else limiter.limit(limit_value)
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        limited = limit(view)

        @wraps(view)
        def dispatch(*args: Any, **kwargs: Any) -> Any:
            if current_app.config["RATELIMIT_ENABLED"]:
                return limited(*args, **kwargs)
            return view(*args, **kwargs)

        return dispatch

    return decorate
