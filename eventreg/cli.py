"""Command-line interface: ``flask --app eventreg programme|users ...``."""

import secrets
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from .models import Role
from .services import accounts
from .services.programme import SHIPPED_PROGRAMME, ProgrammeError, load_programme

programme_cli = AppGroup("programme", help="Load the programme of events.")
users_cli = AppGroup("users", help="Manage staff accounts and API tokens.")


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
    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    click.echo(accounts.issue_api_token(user))


@users_cli.command("revoke-tokens")
@click.argument("email")
def users_revoke_tokens(email: str):
    """Revoke every API token of the account."""
    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    click.echo(f"Revoked {accounts.revoke_api_tokens(user)} token(s).")


def init_app(app: Flask) -> None:
    app.cli.add_command(programme_cli)
    app.cli.add_command(users_cli)
