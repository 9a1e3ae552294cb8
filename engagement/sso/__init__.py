"""Single sign-on: a site's signed-in readers comment under their account (docs/sso.md).

The site's backend signs a short JWT for its reader with one of the site's keys; the widget exchanges
it for a reader session of ours and posts with that. Comments, bans, privacy and exports then know the
reader by the site's user id as well as by email.
"""

from __future__ import annotations

from flask import Flask

from engagement.sso import routes


def init_app(app: Flask) -> None:
    app.register_blueprint(routes.public)
    app.register_blueprint(routes.admin)
