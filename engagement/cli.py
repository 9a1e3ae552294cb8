"""``flask --app wsgi engagement ...``: operator commands. Each one calls a service function."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import click
from flask import Flask
from flask.cli import AppGroup
from marshmallow import ValidationError

from engagement.console import service as console
from engagement.counters.schemas import PushCountSchema
from engagement.counters.service import push_external_count
from engagement.database import reading
from engagement.errors import ApiError, ValidationFailed
from engagement.extensions import db
from engagement.fields import SiteName
from engagement.importers import service as importers
from engagement.importers.pipeline import THREAD_KEYS
from engagement.models import CounterKind, StaffRole
from engagement.portability.export import export_lines
from engagement.sites import service as sites
from engagement.staff import members
from engagement.staff import service as staff

group = AppGroup("engagement", help="Operate the engagement service.")


def _fail(error: ApiError) -> None:
    details = "".join(
        f"\n  {field}: {' '.join(map(str, messages))}" for field, messages in (error.fields or {}).items()
    )
    raise click.ClickException(f"{error.message} ({error.code}){details}")


@group.command("create-site")
@click.argument("slug")
@click.option("--name", required=True, help="Display name, e.g. 'The Daily Planet'.")
@click.option(
    "--origin", "origins", multiple=True, help="Allowed page origin, e.g. https://news.example (repeatable)."
)
def create_site_command(slug: str, name: str, origins: tuple[str, ...]) -> None:
    """Create a site that pages can embed comments for."""
    try:
        name = SiteName().deserialize(name)  # the API's rule: a line break in it failed every mail
        site = sites.create_site(slug=slug, name=name, origins=list(origins))
    except ValidationError as error:
        _fail(ValidationFailed({"name": error.messages}))
    except ApiError as error:
        _fail(error)
    click.echo(f"created site {site.slug} (id {site.id})")


@group.command("create-token")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--site", "site_slugs", multiple=True, help="Site a moderator may act on (repeatable).")
@click.option("--label", required=True, help="Who or what uses the token, e.g. 'cms-prod' or 'jane'.")
@click.option(
    "--member", "member_email", help="Email of the staff member who owns the token (default: none)."
)
def create_token_command(
    role: str, site_slugs: tuple[str, ...], label: str, member_email: str | None
) -> None:
    """Issue a staff token. It is printed once; only its hash is stored."""
    if role == StaffRole.MODERATOR and not site_slugs:
        raise click.UsageError("a moderator token needs at least one --site")
    member = members.live_member(member_email) if member_email else None
    if member_email and member is None:
        raise click.UsageError(f"there is no live member {member_email!r}")
    try:
        token, secret = staff.create_token(
            role=StaffRole(role), site_slugs=list(site_slugs), label=label, member=member
        )
    except ApiError as error:
        _fail(error)
    click.echo(f"token id {token.id} ({token.role}); store it now, it is not shown again:", err=True)
    click.echo(secret)


@group.command("revoke-token")
@click.argument("token_id", type=int)
def revoke_token_command(token_id: int) -> None:
    """Revoke a staff token by id."""
    try:
        token = staff.revoke_token(token_id=token_id)
    except ApiError as error:
        _fail(error)
    click.echo(f"revoked token {token.id} ({token.label})")


@group.command("create-member")
@click.argument("email")
@click.option("--name", required=True, help="Display name, e.g. 'Jane Doe'.")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--site", "site_slugs", multiple=True, help="Site a moderator may act on (repeatable).")
def create_member_command(email: str, name: str, role: str, site_slugs: tuple[str, ...]) -> None:
    """Add a staff member, who signs in to /console by a mailed link (or `sign-in-link`)."""
    try:
        member = members.create_member(
            email=email, display_name=name, role=StaffRole(role), site_slugs=list(site_slugs)
        )
    except ApiError as error:
        _fail(error)
    click.echo(f"created member {member.email} (id {member.id}, {member.role})")


@group.command("revoke-member")
@click.argument("email")
def revoke_member_command(email: str) -> None:
    """Revoke a staff member and their tokens; their console sessions end at their next request."""
    try:
        member = members.revoke_member(email=email)
    except ApiError as error:
        _fail(error)
    click.echo(f"revoked member {member.email}")


@group.command("sign-in-link")
@click.argument("email")
def sign_in_link_command(email: str) -> None:
    """Print a one-time console sign-in link for a member (15 minutes, single use)."""
    try:
        url = console.issue_sign_in_link(email=email)
    except ApiError as error:
        _fail(error)
    click.echo(url)


@group.command("set-count")
@click.argument("site_slug", metavar="SITE")
@click.argument("kind", type=click.Choice([kind.value for kind in CounterKind]))
@click.argument("count", type=int)
@click.option("--source", required=True, help="Platform the count comes from, e.g. youtube.")
@click.option("--target", default="site", show_default=True, help="What is counted, e.g. author:jane-doe.")
@click.option("--force", is_flag=True, help="Accept a 0 or a large drop (refused as a likely failed sync).")
def set_count_command(site_slug: str, kind: str, count: int, source: str, target: str, force: bool) -> None:
    """Record a platform's count for a counter, as the staff PUT endpoint does."""
    try:
        args = PushCountSchema().load({"target": target, "source": source, "count": count, "force": force})
    except ValidationError as error:
        raise click.BadParameter(str(error.messages)) from None
    try:
        state = push_external_count(site=sites.get_site(site_slug), kind=CounterKind(kind), **args)
    except ApiError as error:
        _fail(error)
    click.echo(
        f"{kind} of {site_slug}/{target}: {state.count} ({state.native} native + {state.external} external)"
    )


@group.command("send-mail")
@click.option(
    "--watch", is_flag=True, help="Keep running, delivering mail as it becomes due (until SIGTERM)."
)
@click.option("--interval", default=5.0, show_default=True, help="Seconds between looks at an empty outbox.")
def send_mail_command(watch: bool, interval: float) -> None:
    """Deliver the outbox: every message due now, or (--watch) as a long-running process."""
    from engagement.mailer import sender

    if watch:
        click.echo("delivering mail until SIGTERM", err=True)
        sender.watch_until_terminated(idle_seconds=interval)
        return
    report = sender.deliver_due_messages()
    click.echo(f"sent {report.sent}, retrying later {report.retrying}, failed {report.failed}")
    if report.unreachable:
        click.echo(f"SMTP server unreachable: {report.unreachable}", err=True)


@group.command("worker")
@click.option(
    "--flush", is_flag=True, help="First make everything waiting out a retry due now (mail, webhooks)."
)
@click.option("--interval", default=5.0, show_default=True, help="Seconds between looks when nothing is due.")
def worker_command(flush: bool, interval: float) -> None:
    """The background process: mail, webhooks, counter feeds, Akismet's reports, privacy answers and
    sites' exports, until SIGTERM (`send-mail --watch` is the same process)."""
    from engagement.mailer import outbox, sender
    from engagement.webhooks import delivery

    if flush:
        mail, hooks = outbox.flush_backoff(), delivery.flush_backoff()
        click.echo(f"flushed {mail} messages and {hooks} webhook deliveries waiting for a retry", err=True)
    click.echo("delivering mail and webhooks until SIGTERM", err=True)
    sender.watch_until_terminated(idle_seconds=interval)


@group.command("send-akismet")
def send_akismet_command() -> None:
    """Deliver the learning reports owed to Akismet (the mail process also does, before each batch)."""
    from engagement.akismet import reports

    delivered = reports.deliver_due_reports()
    click.echo(
        f"sent {delivered.sent}, retrying later {delivered.retrying}, failed {delivered.failed}, "
        f"dropped {delivered.dropped}"
    )


@group.command("send-webhooks")
@click.option(
    "--flush", is_flag=True, help="Also deliveries whose retry is still waiting (after fixing the receiver)."
)
def send_webhooks_command(flush: bool) -> None:
    """Deliver the webhooks due now (the mail process, `send-mail --watch`, also does before each batch)."""
    from engagement.webhooks import delivery

    report = delivery.deliver_due(flush=flush)
    click.echo(f"delivered {report.delivered}, retrying later {report.retrying}, failed {report.failed}")


@group.command("sync-counters")
@click.option("--once", is_flag=True, help="Fetch every enabled feed now, whatever its schedule (for cron).")
@click.option("--site", "site_slug", default=None, help="Only this site's feeds.")
def sync_counters_command(once: bool, site_slug: str | None) -> None:
    """Fetch the counter feeds due now (--once: every enabled feed); the worker does it on its own."""
    from engagement.counters import feeds

    report = feeds.sync_due(site_slug=site_slug, everything=once, limit=10_000)
    click.echo(f"synced {report.synced}, kept out {report.refused}, failed {report.failed}")


@group.command("run-exports")
def run_exports_command() -> None:
    """Write the exports admins asked for (the worker does it before each round of mail)."""
    from engagement.portability import jobs

    click.echo(f"wrote {jobs.run_due()} exports", err=True)


@group.command("rotate-secrets")
def rotate_secrets_command() -> None:
    """Re-encrypt every stored secret (Akismet keys, webhook and single sign-on secrets, counter feeds'
    credentials) under the current ENGAGEMENT_SECRET_KEY, opening them with ENGAGEMENT_OLD_SECRET_KEYS."""
    from sqlalchemy import select

    from engagement.encryption import decrypt_secret, rotated
    from engagement.extensions import db
    from engagement.models import CounterFeed, Site, SsoKey, WebhookEndpoint

    columns = [
        (Site, "akismet_key_encrypted"),
        (WebhookEndpoint, "secret_encrypted"),
        (WebhookEndpoint, "previous_secret_encrypted"),
        (SsoKey, "secret_encrypted"),
        (CounterFeed, "credentials_encrypted"),
    ]
    done = unreadable = 0
    for model, column in columns:
        for row in db.session.scalars(select(model).where(getattr(model, column).is_not(None))):
            token = getattr(row, column)
            if decrypt_secret(token) is None:
                unreadable += 1
                continue
            setattr(row, column, rotated(token))
            done += 1
    db.session.commit()
    click.echo(f"re-encrypted {done} secrets under the current key")
    if unreadable:
        click.echo(f"{unreadable} secrets open with no configured key: give them again", err=True)


@group.command("seed-demo")
def seed_demo_command() -> None:
    """Create the demo site and article thread with a few comments (idempotent)."""
    from engagement.demo import seed_demo

    created = seed_demo()
    click.echo("seeded demo site" if created else "demo site already seeded")


@group.command("import")
@click.argument("format_name", metavar="FORMAT", type=click.Choice(sorted(importers.FORMATS)))
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", "site_slug", required=True, help="Slug of the site to import into.")
@click.option("--dry-run", is_flag=True, help="Do all the work, then roll back: nothing is written.")
@click.option(
    "--thread-key",
    type=click.Choice(THREAD_KEYS),
    default="path",
    show_default=True,
    help="WordPress and Disqus: key threads by the post's path, permalink or id.",
)
@click.option(
    "--accept-unchecked",
    is_flag=True,
    help="JSON: restore an export of version 1, which has no end record to prove it complete.",
)
def import_command(
    format_name: str, path: Path, site_slug: str, dry_run: bool, thread_key: str, accept_unchecked: bool
) -> None:
    """Import comments: a WordPress WXR, a Disqus XML export, an Isso database or our JSON Lines export."""
    try:
        source = importers.open_source(
            format_name=format_name, path=path, thread_key=thread_key, accept_unchecked=accept_unchecked
        )
        with click.progressbar(
            length=source.total(),
            label=f"importing {path.name}",
            file=sys.stderr,
            hidden=not sys.stderr.isatty(),
        ) as bar:
            summary = importers.import_comments(
                site_slug=site_slug, source=source, dry_run=dry_run, progress=bar.update
            )
    except ApiError as error:
        _fail(error)
    for line in summary.lines():
        click.echo(line)


@group.command("export")
@click.option("--site", "site_slug", required=True, help="Slug of the site to export.")
@click.option(
    "--output", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default: stdout)."
)
def export_command(site_slug: str, output: TextIO) -> None:
    """Export a site as JSON Lines (emails included: keep it safe); `import json` restores it."""
    try:
        site = sites.get_site(site_slug)
    except ApiError as error:
        _fail(error)
    db.session.commit()  # the lookup's transaction; the export reads in its own, deferred one
    with reading():  # SQLite: a deferred transaction, so posts go on while the file is written
        output.writelines(export_lines(site=site))


def register(app: Flask) -> None:
    app.cli.add_command(group)
