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


class ReaderEngagementSchema(Schema):
    target = fields.String()
    reader = fields.Nested(ReaderStateSchema)


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


# --- counter feeds: counters that update themselves ---------------------------------------------------


class CreateFeedSchema(Schema):
    target = target_field()
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in CounterKind]))
    platform = fields.String(
        required=True,
        validate=validate.Length(min=1, max=SOURCE_LENGTH),
        metadata={"description": "mastodon, bluesky, youtube, facebook, instagram, telegram, twitch, feedly"},
    )
    account = fields.String(
        required=True,
        validate=validate.Length(min=1, max=300),
        metadata={
            "description": "The platform's account, in its form (user@instance, @handle, a page id...)"
        },
    )
    credentials = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)),
        values=fields.String(validate=validate.Length(min=1, max=2000)),
        load_default=dict,
        validate=validate.Length(max=4),
        load_only=True,
        metadata={"description": "Write-only: the platform's secrets by name (api_key, page_token, ...)"},
    )
    interval_minutes = fields.Integer(
        load_default=180,
        validate=validate.Range(min=15, max=7 * 24 * 60),
        metadata={"description": "How often it is fetched (at least 15 minutes; default 3 hours)"},
    )
    enabled = fields.Boolean(load_default=True)


class UpdateFeedSchema(Schema):
    account = fields.String(validate=validate.Length(min=1, max=300))
    credentials = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)),
        values=fields.String(validate=validate.Length(min=1, max=2000)),
        validate=validate.Length(max=4),
        load_only=True,
        metadata={"description": "Write-only; replaces the stored ones whole (and retries at once)"},
    )
    interval_minutes = fields.Integer(validate=validate.Range(min=15, max=7 * 24 * 60))
    enabled = fields.Boolean()


class FeedSchema(Schema):
    """A feed and its health; never its credentials."""

    id = fields.Integer()
    site = fields.String()
    target = fields.String()
    kind = fields.String()
    platform = fields.String()
    account = fields.String()
    source = fields.String(metadata={"description": "Its name among the counter's sources"})
    has_credentials = fields.Boolean()
    interval_minutes = fields.Integer()
    enabled = fields.Boolean()
    health = fields.String(
        metadata={"description": "ok, pending, failing, stale, needs_credentials or disabled"}
    )
    last_success_at = UtcTimestamp(allow_none=True)
    last_count = fields.Integer(
        allow_none=True, metadata={"description": "The last number the platform gave"}
    )
    last_approximate = fields.Boolean(metadata={"description": "Rounded by the platform (YouTube)"})
    last_refused = fields.String(
        allow_none=True, metadata={"description": "Why the last number was not applied (a 0, a large drop)"}
    )
    last_error = fields.String(
        allow_none=True, metadata={"description": "The platform's message, never a credential"}
    )
    last_error_status = fields.Integer(allow_none=True)
    last_error_at = UtcTimestamp(allow_none=True)
    consecutive_failures = fields.Integer()
    failing_since = UtcTimestamp(allow_none=True)
    needs_credentials = fields.Boolean(metadata={"description": "The platform refused them: change them"})
    next_attempt_at = UtcTimestamp(allow_none=True)


class FeedListSchema(Schema):
    items = fields.List(fields.Nested(FeedSchema))
    platforms = fields.List(
        fields.Dict(),
        metadata={"description": "Each platform: name, label, kinds, credentials, account_hint"},
    )
