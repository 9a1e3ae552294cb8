"""A reader's privacy request (a copy of their data, or its erasure), between the form and the mailed link."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base
from engagement.models.mail import EMAIL_LENGTH


class PrivacyRequestStatus(enum.StrEnum):
    RECEIVED = "received"  # asked for; the mail process has not looked the address up yet
    MAILED = "mailed"  # the site holds something about the address: a link was mailed to it
    ERASED = "erased"  # the erase link was followed; the address is no longer kept here


class PrivacyRequest(Base):
    """Asked for through the public form, answered by the mail process (which looks the address up, so the
    form costs the same for every address), and named by the mailed link, which carries only its id. A
    request about an address the site does not know is deleted when it is looked at; the others when
    their link expires."""

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # export | erase
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))  # lower-cased; "" once erased
    status: Mapped[str] = mapped_column(String(16))
    # One request per site, kind, address and hour: repeats within the hour change nothing.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str | None] = mapped_column(String(16))  # of the mail that answers it; None: the site's
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
