"""Command-line interface: ``flask --app eventreg programme|users ...``."""

import secrets
import signal
import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from .models import Role
from .services import accounts, outbox, privacy
from .services.backup import BackupError, backup_database
from .services.programme import SHIPPED_PROGRAMME, ProgrammeError, load_programme
from .services.reminders import queue_reminders

programme_cli = AppGroup("programme", help="Load the programme of events.")
users_cli = AppGroup("users", help="Manage staff accounts and API tokens.")
mail_cli = AppGroup("mail", help="Deliver the outbox and queue reminders.")
privacy_cli = AppGroup("privacy", help="Personal data: purge after the retention period.")


@programme_cli.command("load")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def programme_load(file: Path | None):
    """Create or update events from FILE (default: the shipped programme)."""
    try:
        report = load_programme(file or SHIPPED_PROGRAMME)
    except ProgrammeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Programme loaded: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged."
    )


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
        report = outbox.deliver_due()
        done += 1
        if report.sent:
            click.echo(f"Sent {report.sent} message(s).")
        if report.claimed == 0 or report.failed:
            time.sleep(interval)


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


@click.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path | None):
    """Write a consistent copy of the SQLite database while the service runs."""
    try:
        written = backup_database(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {written}")


def init_app(app: Flask) -> None:
    app.cli.add_command(programme_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(backup)
