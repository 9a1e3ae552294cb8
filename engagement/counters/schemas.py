"""Counter and badge input validation and output shapes."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_dump, validate

from engagement.counters.badges import BADGE_STYLES
from engagement.errors import NotFound
from engagement.fields import Language, UtcTimestamp, target_field
from engagement.models.counters import SOURCE_LENGTH, CounterKind

MAX_HISTORY_DAYS = 731
# Far beyond any real audience, well inside a 64-bit column even when every platform is summed.
MAX_EXTERNAL_COUNT = 10**12


def parse_kind(value: str, *, allowed: tuple[CounterKind, ...] = tuple(CounterKind)) -> CounterKind:
    """The counter kind named in a URL; 404 ``unknown_kind`` for anything else."""
    if value in allowed:
        return CounterKind(value)
    raise NotFound("unknown_kind", f"There is no counter {value!r} here; use one of {', '.join(allowed)}.")


class TargetQuery(Schema):
    target = target_field()


class TargetHtmlQuery(TargetQuery):
    lang = Language(load_default=None, metadata={"description": "The page's language; default: the site's"})


class BadgeQuery(Schema):
    # Badge URLs get pasted into READMEs and CMS templates with cache-busters and shields-only
    # parameters (logo, link); refusing those would break the image, so unknown parameters are ignored.
    class Meta:
        unknown = EXCLUDE

    target = target_field()
    style = fields.String(load_default="flat", validate=validate.OneOf(BADGE_STYLES))
    label = fields.String(
        load_default=None, metadata={"description": "Left text; default Fans, Followers or Subscribers"}
    )
    color = fields.String(
        load_default=None, metadata={"description": "shields colour name or hex (default blue)"}
    )


class BadgeEndpointSchema(Schema):
    """shields.io's endpoint badge JSON (schemaVersion 1)."""

    schemaVersion = fields.Integer(required=True)
    label = fields.String(required=True)
    message = fields.String(required=True)
    color = fields.String(required=True)
    cacheSeconds = fields.Integer(required=True)


class PushCountSchema(Schema):
    target = target_field()
    source = fields.String(
        required=True,
        validate=validate.Regexp(
            rf"^[a-z0-9][a-z0-9_.-]{{0,{SOURCE_LENGTH - 1}}}$",
            error=f"A platform name: lowercase letters, digits, '.', '-', '_', at most {SOURCE_LENGTH}.",
        ),
        metadata={"description": "Platform the count comes from: facebook, x, youtube, ..."},
    )
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_EXTERNAL_COUNT))
    observed_at = UtcTimestamp(
        load_default=None, metadata={"description": "When the platform showed this count (default: now)"}
    )
    force = fields.Boolean(
        load_default=False, metadata={"description": "Accept a 0 or a drop that would be refused"}
    )


class HistoryQuery(Schema):
    target = target_field()
    kind = fields.String(load_default=None, validate=validate.OneOf([k.value for k in CounterKind]))
    days = fields.Integer(load_default=90, validate=validate.Range(min=1, max=MAX_HISTORY_DAYS))


class SourceSchema(Schema):
    source = fields.String()
    count = fields.Integer()
    observed_at = UtcTimestamp()
    stale = fields.Boolean(metadata={"description": "This platform's value is older than the window"})


class CounterSchema(Schema):
    count = fields.Integer(metadata={"description": "native + external"})
    display = fields.String(metadata={"description": "Compact form: 1.2k, 12k, 1M"})
    native = fields.Integer(metadata={"description": "Readers' likes/follows (confirmed emails)"})
    external = fields.Integer(metadata={"description": "Sum of the last good value of every source"})
    sources = fields.List(fields.Nested(SourceSchema))
    updated_at = UtcTimestamp(allow_none=True)
    stale = fields.Boolean(metadata={"description": "The newest external value is older than the window"})


class CountersSchema(Schema):
    fans = fields.Nested(CounterSchema)
    followers = fields.Nested(CounterSchema)
    subscribers = fields.Nested(CounterSchema)


class ReaderStateSchema(Schema):
    fans = fields.Boolean()
    followers = fields.Boolean()


class EngagementSchema(Schema):
    target = fields.String()
    counters = fields.Nested(CountersSchema)
    reader = fields.Nested(
        ReaderStateSchema, metadata={"description": "Only when X-Engagement-Reader is sent"}
    )

    @post_dump
    def omit_reader_when_anonymous(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("reader") is None:
            data.pop("reader", None)
        return data


class PushedCountSchema(Schema):
    target = fields.String()
    kind = fields.String()
    counter = fields.Nested(CounterSchema)


class HistoryDaySchema(Schema):
    day = fields.Date()
    count = fields.Integer()
    native = fields.Integer()
    external = fields.Integer()


class HistorySchema(Schema):
    target = fields.String()
    days = fields.Integer()
    series = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(HistoryDaySchema)),
        metadata={"description": "Per kind, one entry per UTC day, oldest first, value at the day's end"},
    )
