"""The JSON Lines export format: one JSON object a line, each with a ``type``.

Version 2, in this order (``import json`` reads them back in the same order):

- ``site``: first line; format name and version, slug, name, origins and settings.
- ``thread``, then the ``comment``s of that thread (parents before replies). Comments carry everything
  needed to restore them: author email, IP hash, statuses, source ids, likes with the readers' hashes.
- ``counter`` (with its sources and daily history), then its ``counter_reader``s (one line each: a
  counter may have millions).
- ``ban``.
- ``subscriber`` (an email subscription to a target) and ``mail_contact`` (an address that asked for reply
  notifications, with the threads it follows).
- ``end``: last line, written only once every other line was: how many lines came before it, how many of
  each type, and the SHA-256 of their bytes. A restore refuses a file without it, or whose lines do not
  match it: a cut export (a timeout, a full disk, a dropped connection) is never restored in part.

Version 1 (before the end record) is still read, but only when the restore is told the file is whole
(``import json --accept-unchecked``): nothing in it can tell a cut file from a complete one.

Times are ISO 8601 with offset and microseconds, so a restore reproduces the order of equal seconds.
One schema per record type serves both directions, so what the export writes is what the import checks.
"""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, Schema, fields, validate, validates

from engagement.fields import SLUG
from engagement.models import SSO_ID_LENGTH, BanAction, BanKind, CommentStatus, CounterKind
from engagement.models.comments import SOURCE_ID_LENGTH, SOURCE_LENGTH
from engagement.models.counters import SOURCE_LENGTH as COUNTER_SOURCE_LENGTH
from engagement.models.counters import TARGET_LENGTH
from engagement.models.mail import EMAIL_LENGTH
from engagement.sites.schemas import SettingsSchema

FORMAT = "engagement-export"
VERSION = 2
STATUSES = [status.value for status in CommentStatus]
HASH = validate.Length(max=64)


class SiteRecord(Schema):
    type = fields.Constant("site")
    format = fields.String(required=True, validate=validate.Equal(FORMAT))
    version = fields.Integer(
        required=True, validate=validate.Range(min=1, max=VERSION, error="Unknown export version {input}.")
    )
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    origins = fields.List(fields.String(validate=validate.Length(max=200)), load_default=list)
    # A plain object, so keys this version does not know travel as they are (the site keeps them too).
    settings = fields.Dict(keys=fields.String(), load_default=dict)
    created_at = fields.AwareDateTime(required=True)
    exported_at = fields.AwareDateTime(load_default=None)

    @validates("settings")
    def known_settings_are_valid(self, value: dict[str, Any], **kwargs: Any) -> None:
        SettingsSchema(unknown=INCLUDE).load(value)


class ThreadRecord(Schema):
    type = fields.Constant("thread")
    key = fields.String(required=True, validate=validate.Length(min=1, max=512))
    title = fields.String(load_default="", validate=validate.Length(max=300))
    url = fields.String(load_default="", validate=validate.Length(max=1000))
    closed = fields.Boolean(load_default=False)
    comment_count = fields.Integer(metadata={"description": "Informative: recounted on import"})
    created_at = fields.AwareDateTime(required=True)
    last_comment_at = fields.AwareDateTime(load_default=None, allow_none=True)


class LikeRecord(Schema):
    reader_hash = fields.String(required=True, validate=HASH)
    created_at = fields.AwareDateTime(required=True)


class CommentRecord(Schema):
    type = fields.Constant("comment")
    id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    thread = fields.String(required=True, validate=validate.Length(min=1, max=512))
    parent_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    source = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=SOURCE_LENGTH))
    source_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=SOURCE_ID_LENGTH)
    )
    author_name = fields.String(load_default="", validate=validate.Length(max=245))
    author_email = fields.String(load_default="", validate=validate.Length(max=100))
    author_url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    author_sso_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=SSO_ID_LENGTH)
    )
    ip_hash = fields.String(load_default=None, allow_none=True, validate=HASH)
    user_agent = fields.String(load_default="", validate=validate.Length(max=400))
    body = fields.String(load_default="")
    html = fields.String(load_default="")
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    previous_status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(STATUSES))
    spam_reasons = fields.List(fields.String(), load_default=list)
    likes = fields.Integer(load_default=0, validate=validate.Range(min=0))
    liked_by = fields.List(fields.Nested(LikeRecord), load_default=list)
    pinned = fields.Boolean(load_default=False)
    created_at = fields.AwareDateTime(required=True)
    edited_at = fields.AwareDateTime(load_default=None, allow_none=True)
    moderated_at = fields.AwareDateTime(load_default=None, allow_none=True)
    moderated_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    reports = fields.Dict(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Informative: readers' report counts (total, open, open_by_reason); not restored"
        },
    )


class CounterSourceRecord(Schema):
    source = fields.String(required=True, validate=validate.Length(min=1, max=COUNTER_SOURCE_LENGTH))
    count = fields.Integer(required=True, validate=validate.Range(min=0))
    observed_at = fields.AwareDateTime(required=True)


class CounterDayRecord(Schema):
    day = fields.Date(required=True)
    count = fields.Integer(required=True)
    native = fields.Integer(required=True)
    external = fields.Integer(required=True)


class CounterRecord(Schema):
    type = fields.Constant("counter")
    target = fields.String(required=True, validate=validate.Length(min=1, max=TARGET_LENGTH))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in CounterKind]))
    native_count = fields.Integer(required=True, validate=validate.Range(min=0))
    external_count = fields.Integer(required=True, validate=validate.Range(min=0))
    updated_at = fields.AwareDateTime(required=True)
    sources = fields.List(fields.Nested(CounterSourceRecord), load_default=list)
    history = fields.List(fields.Nested(CounterDayRecord), load_default=list)


class CounterReaderRecord(Schema):
    type = fields.Constant("counter_reader")
    target = fields.String(required=True, validate=validate.Length(min=1, max=TARGET_LENGTH))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in CounterKind]))
    reader_hash = fields.String(required=True, validate=HASH)
    created_at = fields.AwareDateTime(required=True)


class BanRecord(Schema):
    type = fields.Constant("ban")
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in BanKind]))
    value = fields.String(required=True, validate=validate.Length(min=1, max=255))
    action = fields.String(required=True, validate=validate.OneOf([a.value for a in BanAction]))
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)
    note = fields.String(load_default="")
    created_by = fields.String(required=True, validate=validate.Length(max=200))
    created_at = fields.AwareDateTime(required=True)


class SubscriberRecord(Schema):
    type = fields.Constant("subscriber")
    target = fields.String(required=True, validate=validate.Length(min=1, max=TARGET_LENGTH))
    email = fields.String(required=True, validate=validate.Length(min=3, max=EMAIL_LENGTH))
    confirmed_at = fields.AwareDateTime(load_default=None, allow_none=True)
    confirmation_sent_at = fields.AwareDateTime(load_default=None, allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class FollowedThreadRecord(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=512))
    created_at = fields.AwareDateTime(required=True)


class MailContactRecord(Schema):
    type = fields.Constant("mail_contact")
    email = fields.String(required=True, validate=validate.Length(min=3, max=EMAIL_LENGTH))
    confirmed_at = fields.AwareDateTime(load_default=None, allow_none=True)
    confirmation_sent_at = fields.AwareDateTime(load_default=None, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    threads = fields.List(fields.Nested(FollowedThreadRecord), load_default=list)


class EndRecord(Schema):
    type = fields.Constant("end")
    lines = fields.Integer(required=True, validate=validate.Range(min=1))
    records = fields.Dict(
        keys=fields.String(), values=fields.Integer(validate=validate.Range(min=0)), required=True
    )
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


END = EndRecord()

SCHEMAS: dict[str, Schema] = {
    "site": SiteRecord(),
    "thread": ThreadRecord(),
    "comment": CommentRecord(),
    "counter": CounterRecord(),
    "counter_reader": CounterReaderRecord(),
    "ban": BanRecord(),
    "subscriber": SubscriberRecord(),
    "mail_contact": MailContactRecord(),
}
