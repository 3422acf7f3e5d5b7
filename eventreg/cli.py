"""Command-line interface: ``flask --app eventreg <command>``.

Commands: prepare, programme, users, mail, privacy, backup, materials, feedback, certificates,
figures.
"""

import secrets
import signal
import time
import traceback
from datetime import datetime
from enum import Enum
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy.exc import InterfaceError, OperationalError

from .extensions import db
from .models import AgendaDay, Role
from .services import (
    accounts,
    certificates,
    events,
    feedback,
    history_check,
    materials,
    outbox,
    privacy,
)
from .services.backup import BackupError, back_up
from .services.programme import (
    SHIPPED_PROGRAMME,
    ProgrammeError,
    apply_update,
    load_programme,
    plan_update,
)
from .services.reminders import queue_reminders

programme_cli = AppGroup("programme", help="Load the programme of events.")
users_cli = AppGroup("users", help="Manage staff accounts and API tokens.")
mail_cli = AppGroup("mail", help="Deliver the outbox and queue reminders.")
privacy_cli = AppGroup("privacy", help="Personal data: purge after the retention period.")
materials_cli = AppGroup("materials", help="Event materials: tell registrants they are there.")
feedback_cli = AppGroup("feedback", help="Feedback questionnaires after events.")
certificates_cli = AppGroup("certificates", help="Attendance certificates.")
figures_cli = AppGroup("figures", help="The data the statistics count.")


@programme_cli.command("load")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--update", is_flag=True, help="Show how FILE would change existing events.")
@click.option("--yes", is_flag=True, help="With --update: apply what is shown.")
@click.option(
    "--overwrite-edits",
    is_flag=True,
    help="With --update: also replace fields changed in the organiser area since the last load.",
)
def programme_load(file: Path | None, update: bool, yes: bool, overwrite_edits: bool):
    """Create the events of FILE (default: the shipped programme) that do not exist yet.

    Existing events keep what organisers did. --update lists, per event, each field the file
    would change (old -> new) and the e-mails that would follow; --yes applies it.
    """
    if (yes or overwrite_edits) and not update:
        raise click.UsageError("--yes and --overwrite-edits go with --update")
    path = file or SHIPPED_PROGRAMME
    try:
        if update:
            _update_programme(path, apply=yes, overwrite_edits=overwrite_edits)
            return
        report = load_programme(path)
    except ProgrammeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Programme loaded: {len(report.created)} created, {len(report.existing)} already "
        "there (kept as they are; see --update)."
    )


def _update_programme(path: Path, *, apply: bool, overwrite_edits: bool) -> None:
    plan = plan_update(path, overwrite_edits=overwrite_edits)
    for line in _describe(plan, overwrite_edits=overwrite_edits):
        click.echo(line)
    if plan.is_empty:
        click.echo("The events match the file: nothing to do.")
    elif plan.refusal:
        raise click.ClickException(plan.refusal)
    elif not apply:
        click.echo("Nothing changed. Run again with --yes to apply this.")
    else:
        applied = apply_update(path, overwrite_edits=overwrite_edits)
        click.echo(f"Applied: {len(applied.missing)} created, {len(applied.updates)} updated.")


def _describe(plan, *, overwrite_edits: bool) -> list[str]:
    """The plan as lines for the operator: per event, old -> new and the e-mails to follow."""
    lines = [f"{slug}: new event, would be created" for slug in plan.missing]
    for update in plan.updates:
        lines.append(f"{update.slug}:")
        for change in update.changes:
            old, new = (_shown(v, update.timezone) for v in (change.old, change.new))
            lines.append(f"  {change.name}: {old} -> {new}")
            if change.edited:
                lines.append(
                    "    conflict: changed in the organiser area since the last load; "
                    + ("overwritten" if overwrite_edits else "kept (--overwrite-edits replaces it)")
                )
            elif change.held_by:
                lines.append(
                    f"    goes with {change.held_by}, changed in the organiser area; "
                    + ("applied" if overwrite_edits else "kept (--overwrite-edits applies both)")
                )
        mails = []
        if update.invitations:
            mails.append(f"{update.invitations} 'event changed' e-mail(s) with updated invitations")
        if update.waiting_notices:
            mails.append(f"{update.waiting_notices} 'event changed' e-mail(s) to the waiting list")
        if update.promotions:
            mails.append(f"{update.promotions} confirmation(s) for people on the waiting list")
        lines.append("  e-mails: " + ("; ".join(mails) or "none"))
        for day, count in update.left_out.items():
            lines.append(
                f"  refused: {count} check-in(s) recorded on {day}, which would no longer be a "
                "day of the event (keep the day, or undo those check-ins at the door first)"
            )
        for day, count in update.shifted.items():
            lines.append(
                f"  refused: {count} check-in(s) recorded on {day} would fall on another date in "
                "the new time zone (keep the zone, or undo those check-ins at the door first)"
            )
    return lines


def _shown(value, timezone: str) -> str:
    if isinstance(value, list) and all(isinstance(day, AgendaDay) for day in value):
        zone = ZoneInfo(timezone)
        days = (
            (day.starts_at.astimezone(zone), day.ends_at.astimezone(zone), day.title)
            for day in value
        )
        lines = (f"{s:%Y-%m-%d %H:%M}-{e:%H:%M}" + (f" {t}" if t else "") for s, e, t in days)
        return "[" + "; ".join(lines) + "]"
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).strftime(f"%Y-%m-%d %H:%M ({timezone})")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str) and len(value) > 70:
        value = value[:67] + "..."
    return repr(value)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--password", help="Leave out to get a generated one.")
def users_create(email: str, role: str, password: str | None):
    """Create a staff account."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        user = accounts.create_user(email, Role(role), password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role.value} account {user.email}.")
    if generated:
        click.echo(f"Password: {password}")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password", help="Leave out to be asked for it (not echoed).")
def users_set_password(email: str, password: str | None):
    """Give an account a new password."""
    user = _account(email)
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.set_password(user, password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"New password set for {user.email}.")


@users_cli.command("ensure-organiser")
@click.option("--email", default="organiser@example.org", show_default=True)
def users_ensure_organiser(email: str):
    """Create a first admin account when there is no staff account at all."""
    if accounts.has_staff_account():
        click.echo("Staff accounts exist; log in at /login with yours.")
        return
    password = secrets.token_urlsafe(12)
    accounts.create_user(email, Role.ADMIN, password)
    click.echo(f"Created the first account. Log in at /login as {email} with password: {password}")


@users_cli.command("token")
@click.argument("email")
def users_token(email: str):
    """Print a new API token for the account (shown once; only its hash is kept)."""
    click.echo(accounts.issue_api_token(_account(email)))


@users_cli.command("revoke-tokens")
@click.argument("email")
def users_revoke_tokens(email: str):
    """Revoke every API token of the account."""
    click.echo(f"Revoked {accounts.revoke_api_tokens(_account(email))} token(s).")


def _account(email: str):
    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    return user


@mail_cli.command("send")
def mail_send():
    """Deliver every message that is due now."""
    report = outbox.deliver_all()
    click.echo(f"Sent {report.sent}, failed {report.failed} (will retry unless given up).")


@mail_cli.command("remind")
def mail_remind():
    """Queue reminders for events starting within REMINDER_LEAD_HOURS (run from cron)."""
    click.echo(f"Queued {queue_reminders()} reminder(s).")


@mail_cli.command("worker")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between rounds.")
@click.option(
    "--rounds", type=int, help="Stop after this many rounds (default: run until stopped)."
)
def mail_worker(interval: float, rounds: int | None):
    """Deliver the outbox continuously next to gunicorn; SIGTERM stops it between messages."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    done = 0
    while not stopping and (rounds is None or done < rounds):
        done += 1
        try:
            # Asked before each message: the message in hand is finished, the rest of the
            # batch goes back to the queue at once.
            report = outbox.deliver_due(stop=lambda: bool(stopping))
        except (OperationalError, InterfaceError) as error:
            # The database restarting or unreachable: the messages wait in it; so does this.
            db.session.remove()
            click.echo(f"Database unavailable, trying again: {error.orig}", err=True)
            _pause(interval, stopping)
            continue
        except Exception:
            # Anything else this round met (its unsent messages are back in the queue): the
            # next round tries again, for one message gone wrong must not stop all e-mail.
            db.session.remove()
            click.echo(f"Delivery failed, trying again: {traceback.format_exc()}", err=True)
            _pause(interval, stopping)
            continue
        if report.sent:
            click.echo(f"Sent {report.sent} message(s).")
        if report.claimed == 0 or report.failed:
            _pause(interval, stopping)


def _pause(seconds: float, stopping: list) -> None:
    """Wait between rounds, but not once SIGTERM came."""
    deadline = time.monotonic() + seconds
    while not stopping and time.monotonic() < deadline:
        time.sleep(max(0.0, min(0.1, deadline - time.monotonic())))


@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="List who would be anonymised; change nothing.")
def privacy_purge(dry_run: bool):
    """Anonymise people whose events ended more than RETENTION_DAYS ago (run from cron)."""
    if dry_run:
        people = privacy.expired()
        for registrant in people:
            events = ", ".join(r.event.slug for r in registrant.registrations)
            click.echo(f"would purge registrant {registrant.id} ({events})")
        click.echo(f"{len(people)} registrant(s) would be anonymised.")
        return
    click.echo(f"Anonymised {privacy.purge()} registrant(s).")


@figures_cli.command("check")
@click.option("--fix", is_flag=True, help="Put back the registrations whose state is certain.")
def figures_check(fix: bool):
    """List registrations of ended events changed after the end by code from before that was
    refused: seats given from the waiting list, and registrations an erasure cancelled."""
    found = history_check.find_wrong_history()
    for wrong in found:
        registration = wrong.registration
        what = (
            "given a seat from the waiting list"
            if wrong.problem == history_check.PROMOTED_AFTER_END
            else "cancelled by an erasure"
        )
        verdict = (
            f"should be {wrong.status.value}"
            if wrong.is_certain
            else f"left as it is ({wrong.doubt})"
        )
        click.echo(
            f"{registration.reference} at {registration.event.slug}: {what} on "
            f"{wrong.changed_at:%Y-%m-%d %H:%M} UTC, after the event ended; "
            f"{registration.status.value}, {verdict}"
        )
    certain = sum(wrong.is_certain for wrong in found)
    if fix:
        click.echo(f"Repaired {history_check.repair(found)} registration(s).")
    elif certain:
        click.echo(f"{certain} registration(s) can be repaired: run again with --fix.")
    click.echo(f"{len(found)} registration(s) found, {len(found) - certain} not certain.")


@click.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--files-only",
    is_flag=True,
    help="Only archive the uploaded files (with PostgreSQL, whose database pg_dump copies).",
)
def backup(path: Path | None, files_only: bool):
    """Copy the SQLite database, then archive the uploaded files, while the service runs.

    PATH is where the database copy goes (its files go next to it, as NAME.files.tar), or with
    --files-only the archive; by default both go to instance/backups/, newest BACKUP_KEEP kept.
    """
    try:
        written = back_up(path, files_only=files_only)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    if written.database:
        click.echo(f"Database copied to {written.database}")
    if written.files:
        click.echo(f"Uploaded files archived in {written.files}")
    else:
        click.echo("Uploaded files are kept by STORAGE_CLASS: back them up where it keeps them.")


@click.command("prepare")
@with_appcontext
@click.pass_context
def prepare(ctx: click.Context):
    """What scripts/run does before serving: migrate, create missing events, a first account.

    Safe on every start: an existing event is never changed and no e-mail is queued.
    """
    upgrade()
    ctx.invoke(programme_load)
    ctx.invoke(users_ensure_organiser)


def _event(slug: str):
    event = events.find(slug, include_drafts=True)
    if event is None:
        raise click.ClickException(f"no event with the slug {slug!r}")
    return event


@materials_cli.command("announce")
@click.argument("slug")
def materials_announce(slug: str):
    """E-mail the event's confirmed registrants that its materials are available (once each)."""
    click.echo(f"Queued {materials.announce(_event(slug))} e-mail(s).")


@feedback_cli.command("send")
@click.argument("slug", required=False)
@click.option("--due", is_flag=True, help="Every event that ended and whose questionnaire is open.")
def feedback_send(slug: str | None, due: bool):
    """Mail each attendee of an ended event their questionnaire link, once (cron: --due)."""
    if due == bool(slug):
        raise click.UsageError("give either SLUG or --due")
    if due:
        sent = feedback.send_due()
        for event_slug, count in sent.items():
            click.echo(f"{event_slug}: queued {count} questionnaire link(s).")
        click.echo(f"Queued {sum(sent.values())} questionnaire link(s) in all.")
        return
    try:
        count = feedback.send_requests(_event(slug))
    except feedback.EventNotEnded as exc:
        raise click.ClickException(f"the event {exc} has not ended yet") from exc
    click.echo(f"Queued {count} questionnaire link(s).")


@certificates_cli.command("send")
@click.argument("slug")
def certificates_send(slug: str):
    """Mail each attendee of an ended event their certificate as a PDF, once."""
    try:
        count = certificates.send_for_event(_event(slug))
    except certificates.EventNotEnded as exc:
        raise click.ClickException(f"the event {exc} has not ended yet") from exc
    click.echo(f"Queued {count} certificate(s).")


def init_app(app: Flask) -> None:
    app.cli.add_command(prepare)
    app.cli.add_command(programme_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(backup)
    app.cli.add_command(materials_cli)
    app.cli.add_command(feedback_cli)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(figures_cli)
