"""A site's settings as staff send them: every rule validated to a range a newsroom could sensibly want."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engagement.fields import WebUrl
from engagement.i18n import LANGUAGES


class SettingsSchema(Schema):
    """Per-site rules; every field optional on update, each range a newsroom could sensibly want."""

    moderation = fields.String(validate=validate.OneOf(("none", "all", "first_time")))
    max_links = fields.Integer(validate=validate.Range(min=0, max=100))
    max_depth = fields.Integer(validate=validate.Range(min=1, max=10))
    edit_window_seconds = fields.Integer(validate=validate.Range(min=0, max=7 * 24 * 3600))
    close_after_days = fields.Integer(validate=validate.Range(min=0, max=36500))
    max_body_length = fields.Integer(validate=validate.Range(min=100, max=60_000))
    flood_seconds = fields.Integer(validate=validate.Range(min=0, max=3600))
    moderation_words = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=1000)
    )
    disallowed_words = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=1000)
    )
    notify_emails = fields.List(fields.Email(), validate=validate.Length(max=50))
    stale_after_hours = fields.Integer(validate=validate.Range(min=0, max=24 * 365))  # 0: never stale
    max_drop_share = fields.Float(validate=validate.Range(min=0, max=1))
    report_threshold = fields.Integer(validate=validate.Range(min=0, max=1000))
    # Write-only: verified with Akismet before it is saved, stored encrypted, never answered (the site
    # answers ``akismet_key_set``). null removes it.
    akismet_key = fields.String(
        load_only=True, allow_none=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,100}\Z")
    )
    akismet_failure = fields.String(validate=validate.OneOf(("hold", "allow")))
    akismet_blog_lang = fields.String(validate=validate.Regexp(r"^[A-Za-z_, -]{0,100}\Z"))
    live_interval_seconds = fields.Integer(validate=validate.Range(min=0, max=3600))  # 0: no live updates
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    html_nosnippet = fields.Boolean()
    html_json_ld = fields.Boolean()
    sso_required = fields.Boolean(metadata={"description": "Only signed-in readers (single sign-on) comment"})
    sso_skip_first_time = fields.Boolean(
        metadata={"description": "Signed-in readers are not held as first-time commenters"}
    )
    sso_login_url = WebUrl(
        max_length=1000,
        allow_none=True,
        metadata={"description": "The site's sign-in page, where guests are sent to comment; null: none"},
    )
