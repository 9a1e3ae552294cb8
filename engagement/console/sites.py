"""The site pages: the sites a member reaches (and, for admins, a new one), one site's settings with its
embed snippet, and its threads with Close / Reopen.

Everything goes through the moderation services and their permission checks (``engagement.staff.access``:
404 for an unknown site, 403 outside a moderator's sites or for a moderator changing settings), and every
form is validated by the schema of the API endpoint that does the same, so a field's message here is the
API's. This module turns a form into the body that endpoint takes, and the schemas' answers into pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Response, redirect, request, url_for
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from engagement.config import public_base_url
from engagement.console import auth
from engagement.console.blueprint import bp, load_form, page
from engagement.errors import Conflict, NotFound, ServiceUnavailable, UnprocessableValue, ValidationFailed
from engagement.extensions import db
from engagement.models import Site, Thread
from engagement.moderation import sites, threads
from engagement.moderation.schemas import (
    CreateSiteSchema,
    ThreadKeyQuery,
    ThreadsQuery,
    UpdateSiteSchema,
    UpdateThreadSchema,
)
from engagement.sites.schemas import SettingsSchema
from engagement.staff import access

THREADS_PAGE_SIZE = 50
SORTS = {"recent": "Most recent", "most_comments": "Most commented"}
# What the threads page carries through a Close / Reopen, to come back to the same view.
THREAD_VIEW = ("sort", "q", "cursor")
# A long entry quoted in its message is cut here: the field below shows all of it.
QUOTE_LENGTH = 40

# Labels and help for the settings SettingsSchema validates; a setting added there and not here still
# gets a field (its name as the label), so no setting is ever missing from the page.
SETTING_TEXTS: dict[str, tuple[str, str]] = {
    "moderation": (
        "Hold comments for moderation",
        "Which comments wait for a moderator before readers see them.",
    ),
    "max_links": ("Links that hold a comment", "A comment with this many links or more waits (0: no limit)."),
    "max_depth": ("Deepest reply level", "A deeper reply goes under the deepest allowed comment."),
    "edit_window_seconds": ("Edit window (seconds)", "How long authors may edit or delete their comment."),
    "close_after_days": ("Close threads after (days)", "Counted from a thread's first comment (0: never)."),
    "max_body_length": ("Longest comment (characters)", ""),
    "flood_seconds": ("Pause between comments (seconds)", "From the same address or email (0: none)."),
    "moderation_words": ("Words that hold a comment", "One a line; a comment containing one waits."),
    "disallowed_words": ("Words that mark spam", "One a line; a comment containing one goes to spam."),
    "notify_emails": ("Moderator alert addresses", "One a line; each is mailed about held comments."),
    "stale_after_hours": ("Counters are stale after (hours)", "Without a new external observation."),
    "max_drop_share": ("Largest counter drop", "Of a counter's last value; a bigger drop is refused."),
    "report_threshold": (
        "Readers' reports that hold a comment",
        "Distinct readers; at this many reports an approved comment waits for a moderator. 0: never.",
    ),
    "live_interval_seconds": (
        "Live updates every (seconds)",
        "How often a reader's open thread looks for new comments. 0: never.",
    ),
    "language": ("Language", "Of server-rendered comments and mail when a reader's own is not known."),
    "html_nosnippet": (
        "Keep comments out of search snippets",
        "Server-rendered comments carry data-nosnippet.",
    ),
    "html_json_ld": (
        "Describe comments to search engines",
        "Server-rendered comments carry schema.org JSON-LD.",
    ),
    "sso_required": (
        "Only signed-in readers comment",
        "Guests see a sign-in prompt (single sign-on: the site's keys are on the API).",
    ),
    "sso_skip_first_time": (
        "Trust signed-in readers at once",
        "Their first comment is not held as a first-time commenter's.",
    ),
    "sso_login_url": ("Sign-in page", "Where guests are sent to sign in to comment."),
}
CHOICE_LABELS = {
    "moderation": {
        "none": "None: publish at once",
        "first_time": "First comments: an author's first comment waits",
        "all": "All: every comment waits",
    },
}


@dataclass(frozen=True)
class Setting:
    """One validated setting as a form field: ``kind`` is number, checkbox, lines, choice or text."""

    name: str
    label: str
    kind: str
    hint: str
    attrs: dict[str, Any] = field(default_factory=dict)
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SettingsForm:
    """The settings page: what each field shows (``typed``: the site's values, or what was sent back) and
    the messages next to them."""

    site: Site
    settings: list[Setting]
    typed: dict[str, Any]
    errors: dict[str, list[str]]
    editable: bool


@dataclass(frozen=True)
class ThreadPage:
    sort: str
    q: str
    cursor: str | None
    threads: list[Thread]
    next_cursor: str | None
    error: str | None


def settings_of(schema: Schema) -> list[Setting]:
    """A field for each setting ``schema`` validates, in its order, with its range and choices."""
    settings = []
    for name, declared in schema.fields.items():
        if declared.load_only:  # write-only (the Akismet key): a page that shows current values cannot
            continue
        label, hint = SETTING_TEXTS.get(name, (name.replace("_", " ").capitalize(), ""))
        attrs: dict[str, Any] = {}
        choices: tuple[tuple[str, str], ...] = ()
        for validator in declared.validators:
            if isinstance(validator, validate.Range):
                attrs.update(min=validator.min, max=validator.max)
                hint = " ".join(filter(None, (hint, f"From {validator.min} to {validator.max}.")))
            elif isinstance(validator, validate.OneOf):
                labels = CHOICE_LABELS.get(name, {})
                choices = tuple((str(c), labels.get(str(c), str(c))) for c in validator.choices)
        if isinstance(declared, fields.Boolean):
            kind = "checkbox"
        elif isinstance(declared, fields.Number):
            kind = "number"
            attrs["step"] = 1 if isinstance(declared, fields.Integer) else "any"
        elif isinstance(declared, fields.List):
            kind, attrs = "lines", {"rows": 4}
        else:
            kind = "choice" if choices else "text"
        settings.append(Setting(name, label, kind, hint, attrs, choices))
    return settings


SETTINGS = settings_of(SettingsSchema())
NEW_SITE_FIELDS = ("slug", "name", "origins")


def form_body(form: Mapping[str, str], settings: list[Setting], names: tuple[str, ...]) -> dict[str, Any]:
    """The posted form as the API's JSON body would carry it: ``names`` (one-line text fields, trimmed as
    a text box's edges are invisible; ``origins`` one a line) and ``settings`` as they are typed, a list
    one entry a line (blank lines skipped), a checkbox ``true`` when ticked and ``false`` when not (a
    browser sends nothing for it, and the form shows every checkbox). The schema converts and checks the
    rest, with the API's messages."""
    body: dict[str, Any] = {}
    for name in names:
        if name in form:
            body[name] = _lines(form[name]) if name == "origins" else form[name].strip()
    for setting in settings:
        if setting.kind == "checkbox":
            body[setting.name] = setting.name in form
        elif setting.name in form:
            body[setting.name] = _lines(form[setting.name]) if setting.kind == "lines" else form[setting.name]
    return body


def typed_values(form: Mapping[str, str], settings: list[Setting], names: tuple[str, ...]) -> dict[str, Any]:
    """What the form sent, to show again as it was typed (a checkbox: ticked or not)."""
    typed: dict[str, Any] = {name: form.get(name, "") for name in names}
    for setting in settings:
        typed[setting.name] = (
            setting.name in form if setting.kind == "checkbox" else form.get(setting.name, "")
        )
    return typed


def current_values(site: Site, settings: list[Setting]) -> dict[str, Any]:
    """The site's name, origins and settings as the form's fields show them."""
    values = site.settings.to_json()
    typed: dict[str, Any] = {"name": site.name, "origins": "\n".join(site.origins or ())}
    for setting in settings:
        value = values.get(setting.name)
        if setting.kind == "lines":
            typed[setting.name] = "\n".join(value or ())
        elif setting.kind == "checkbox":
            typed[setting.name] = bool(value)
        else:
            typed[setting.name] = "" if value is None else str(value)
    return typed


def field_messages(messages: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, list[str]]:
    """marshmallow's messages by field, each a list of strings: a list's entries (by index) are quoted,
    since the field shows them one a line and blank lines were skipped."""
    flat: dict[str, list[str]] = {}
    for name, value in messages.items():
        if not isinstance(value, Mapping):
            flat[name] = [str(text) for text in value]
            continue
        entries = body.get(name) or []
        flat[name] = []
        for index, texts in value.items():
            entry = _quote(entries[index]) if isinstance(index, int) and index < len(entries) else str(index)
            flat[name] += [f"{entry}: {text}" for text in texts]
    return flat


def changed_settings(site: Site, update: Mapping[str, Any], settings: list[Setting]) -> dict[str, Any]:
    """The settings of ``update`` whose value differs from the site's: only those are sent, so the audit
    entry names what was changed, and a save does not put back a value another admin changed since."""
    current = site.settings.to_json()
    return {
        s.name: update[s.name] for s in settings if s.name in update and update[s.name] != current.get(s.name)
    }


def load_threads(*, principal: Any, site: Site, args: Mapping[str, str]) -> ThreadPage:
    """One keyset page of the site's threads for the query string ``args``; a query that is not valid
    (a sort, a cursor) is a message on the page and an empty list, never an error."""
    raw = {name: args[name] for name in THREAD_VIEW if args.get(name, "").strip()}
    sort = raw.get("sort", "recent")
    try:
        query = ThreadsQuery().load({**raw, "limit": THREADS_PAGE_SIZE}, unknown=EXCLUDE)
        listing = threads.list_threads(token=principal, site=site.slug, **query)
    except (ValidationError, ValidationFailed):
        return ThreadPage(
            sort=sort if sort in SORTS else "recent",
            q=raw.get("q", ""),
            cursor=None,
            threads=[],
            next_cursor=None,
            error="This sort, search or page is not valid; start again from the first page.",
        )
    return ThreadPage(
        sort=query["sort"],
        q=query["q"] or "",
        cursor=query["cursor"],
        threads=list(listing.items),
        next_cursor=listing.next_cursor,
        error=None,
    )


class ThreadStateForm(ThreadKeyQuery, UpdateThreadSchema):
    """Close (``closed=true``) or reopen one thread: the API PATCH's key and fields, so its messages."""

    class Meta:
        unknown = EXCLUDE  # the CSRF token and the list's view ride along


# --- routes ------------------------------------------------------------------------------------------


@bp.get("/sites")
def sites_page() -> Response:
    return _sites_page(typed={}, errors={})


@bp.post("/sites")
def create_site() -> Response:
    principal = auth.current_principal()
    access.require_admin(principal)  # before validation: a moderator learns nothing from the messages
    body = form_body(request.form, [], NEW_SITE_FIELDS)
    typed = typed_values(request.form, [], NEW_SITE_FIELDS)
    try:
        new = CreateSiteSchema().load(body)
        site = sites.create_site(
            token=principal, slug=new["slug"], name=new["name"], origins=new["origins"], settings={}
        )
    except ValidationError as invalid:
        return _sites_page(typed=typed, errors=field_messages(invalid.messages, body), status=422)
    except Conflict as taken:
        return _sites_page(typed=typed, errors={"slug": [taken.message]}, status=409)
    return redirect(url_for("console.site_page", slug=site.slug, saved="created"), 303)


@bp.get("/sites/<slug>")
def site_page(slug: str) -> Response:
    site = staff_site(slug)
    notice = {"1": "Settings saved.", "created": "Site created."}.get(request.args.get("saved", ""))
    return _settings_page(site, typed=current_values(site, SETTINGS), errors={}, notice=notice)


@bp.post("/sites/<slug>")
def update_site(slug: str) -> Response:
    principal = auth.current_principal()
    site = staff_site(slug)
    access.require_admin(principal)  # a moderator reads the settings; only an admin changes them (the API)
    body = form_body(request.form, SETTINGS, ("name", "origins"))
    # The Akismet key is write-only: a new one typed replaces it, "remove" drops it, blank keeps it.
    if request.form.get("akismet_key", "").strip():
        body["akismet_key"] = request.form["akismet_key"].strip()
    elif request.form.get("akismet_key_remove"):
        body["akismet_key"] = None
    typed = typed_values(request.form, SETTINGS, ("name", "origins"))
    try:
        update = UpdateSiteSchema().load(body)
        changed = changed_settings(site, update, SETTINGS)
        if "akismet_key" in update:
            changed["akismet_key"] = update["akismet_key"]
        sites.update_site(
            token=principal,
            slug=site.slug,
            name=update.get("name"),
            origins=update.get("origins"),
            settings=changed,
        )
    except ValidationError as invalid:
        return _settings_page(site, typed=typed, errors=field_messages(invalid.messages, body), status=422)
    except (UnprocessableValue, ServiceUnavailable) as refused:
        # Akismet refused the key, or could not be asked: nothing was saved (the key is never shown again).
        db.session.rollback()
        errors = {"akismet_key": [refused.fields["akismet_key"][0] if refused.fields else refused.message]}
        return _settings_page(site, typed=typed, errors=errors, status=refused.status)
    return redirect(url_for("console.site_page", slug=site.slug, saved="1"), 303)


@bp.get("/sites/<slug>/threads")
def threads_page(slug: str) -> Response:
    site = staff_site(slug)
    shown = load_threads(principal=auth.current_principal(), site=site, args=request.args)
    # The notice names a listed thread by its id and says its state: never text from the URL.
    changed = request.args.get("changed", type=int)
    notice = next((_state_notice(t) for t in shown.threads if t.id == changed), None)
    return page("console/threads.html", site=site, view=shown, sorts=SORTS, notice=notice)


@bp.post("/sites/<slug>/threads")
def update_thread(slug: str) -> Response:
    site = staff_site(slug)
    form = load_form(ThreadStateForm())
    thread = threads.update_thread(
        token=auth.current_principal(), site=site.slug, key=form["key"], closed=form.get("closed"), title=None
    )
    back = {name: request.form[name] for name in THREAD_VIEW if request.form.get(name)}
    target = url_for("console.threads_page", slug=site.slug, changed=thread.id, **back)
    return redirect(f"{target}#thread-{thread.id}", 303)


# --- helpers -----------------------------------------------------------------------------------------


def staff_site(slug: str) -> Site:
    """The site, if the signed-in principal may see it (404 unknown, 403 outside their sites). The 404
    does not repeat the slug: a link cannot put words on a staff page."""
    try:
        return access.site_in_scope(auth.current_principal(), slug)
    except NotFound:
        raise NotFound("site_not_found", "There is no such site.") from None


def admin_site(slug: str) -> Site:
    """The site, if the signed-in principal is an admin who may act on it (403 before anything is read)."""
    access.require_admin(auth.current_principal())
    return staff_site(slug)


def _sites_page(*, typed: dict[str, Any], errors: dict[str, list[str]], status: int = 200) -> Response:
    principal = auth.current_principal()
    return page(
        "console/sites.html",
        status=status,
        sites=sites.list_sites(token=principal),
        is_admin=principal.is_admin,
        typed=typed,
        errors=errors,
    )


def _settings_page(
    site: Site,
    *,
    typed: dict[str, Any],
    errors: dict[str, list[str]],
    notice: str | None = None,
    status: int = 200,
) -> Response:
    form = SettingsForm(
        site=site,
        settings=SETTINGS,
        typed=typed,
        errors=errors,
        editable=auth.current_principal().is_admin,
    )
    return page("console/site.html", status=status, form=form, notice=notice, origin=public_base_url())


def _state_notice(thread: Thread) -> str:
    return f"{thread.title or thread.key}: now {'closed' if thread.closed else 'open'}."


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _quote(entry: Any) -> str:
    text = str(entry)
    return f"“{text if len(text) <= QUOTE_LENGTH else text[: QUOTE_LENGTH - 1] + '…'}”"
