"""Extensions, created unbound and bound to the app in ``create_app``."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from engagement.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True)
# ProxyFix (per ENGAGEMENT_TRUSTED_PROXIES) has already set remote_addr from the trusted hops only.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
