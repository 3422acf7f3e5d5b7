"""Fresh databases set up as in production: migrated, programme loaded, plus the bench events."""

import itertools
import os
import secrets
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import sqlalchemy as sa

from .server import service_env, venv_command
from .settings import (
    RUSH_EVENT,
    SIGNUP_EVENT,
    SIGNUP_EVENT_CAPACITY,
    TICKET_EVENT,
    TICKET_EVENT_CAPACITY,
)

_numbers = itertools.count(1)

# A context manager that yields the URL of a fresh copy of the prepared database.
Copies = Callable[[], AbstractContextManager[str]]


@contextmanager
def prepared_databases(
    backend: str, workdir: Path, postgres_url: str | None, root: Path, programme: Path
) -> Iterator[Copies]:
    """Set up one database as production does; yield a maker of fresh copies of it.

    Setting up takes three ``flask`` commands (seconds); a copy takes milliseconds, so every
    measurement still starts from the same, untouched database.
    """
    with _empty_database(backend, workdir, postgres_url) as template_url:
        set_up_like_production(root, service_env(template_url, secrets.token_hex(32)), programme)
        yield partial(_copy_of, backend, workdir, postgres_url, template_url)


@contextmanager
def _copy_of(
    backend: str, workdir: Path, postgres_url: str | None, template_url: str
) -> Iterator[str]:
    if backend == "sqlite":
        copy = workdir / f"eventreg-{next(_numbers)}.sqlite3"
        # The backup API copies a consistent snapshot, write-ahead log included.
        source = sqlite3.connect(sa.make_url(template_url).database)
        with closing(source), closing(sqlite3.connect(copy)) as target:
            source.backup(target)
        yield f"sqlite:///{copy}"
        return
    template = sa.make_url(template_url).database
    with _postgres_database(postgres_url, f' TEMPLATE "{template}"') as url:
        yield url


@contextmanager
def _empty_database(backend: str, workdir: Path, postgres_url: str | None) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'eventreg-{next(_numbers)}.sqlite3'}"
        return
    with _postgres_database(postgres_url) as url:
        yield url


@contextmanager
def _postgres_database(server_url: str, options: str = "") -> Iterator[str]:
    """A new database on the server for the block's duration; dropped afterwards."""
    name = f"eventreg_bench_{os.getpid()}_{next(_numbers)}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        _execute(admin, f'CREATE DATABASE "{name}"{options}')
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def postgres_version(postgres_url: str) -> str:
    """The server's version string, for the report."""
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text("SHOW server_version"))
    finally:
        engine.dispose()


def set_up_like_production(root: Path, env: dict[str, str], programme: Path) -> None:
    """Migrate and load the shipped programme with the README's commands, then ours."""
    for args in (["db", "upgrade"], ["programme", "load"], ["programme", "load", str(programme)]):
        flask(root, env, *args)


def flask(root: Path, env: dict[str, str], *args: str) -> str:
    """Run ``flask --app eventreg ARGS`` as the README does; its output, or an error."""
    finished = subprocess.run(
        [venv_command("flask"), "--app", "eventreg", *args],
        cwd=root,
        env=os.environ | env,
        capture_output=True,
        text=True,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args[:2])} failed:\n{finished.stderr}")
    return finished.stdout


def organiser_token(root: Path, env: dict[str, str], email: str) -> str:
    """An organiser made, and its API token issued, with the README's ``flask users`` commands."""
    flask(
        root,
        env,
        "users",
        "create",
        email,
        "--role",
        "organiser",
        "--password",
        secrets.token_hex(12),
    )
    return flask(root, env, "users", "token", email).strip().splitlines()[-1]


def write_bench_programme(path: Path, rush_seats: int) -> Path:
    """A programme file with our events, open for registration now, in UTC.

    The sign-up event runs from yesterday to tomorrow: its tickets are scanned at the door
    (the check-in scenario), which admits people only on a day the event runs.
    """
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    events = (
        (SIGNUP_EVENT, "Bench webinar: sign-up throughput", SIGNUP_EVENT_CAPACITY, ONLINE, -1),
        (RUSH_EVENT, "Bench webinar: the rush", rush_seats, ONLINE, 60),
        (TICKET_EVENT, "Bench workshop: tickets at the door", TICKET_EVENT_CAPACITY, IN_PERSON, 60),
    )
    path.write_text("\n".join(_event_table(now, *event) for event in events), encoding="utf-8")
    return path


ONLINE = 'mode = "online"\nonline_url = "https://meet.example.org/{slug}"'
IN_PERSON = 'mode = "in_person"\ncity = "Bergamo"\nvenue = "Bench hall"'


def _event_table(
    now: datetime, slug: str, title: str, capacity: int, mode: str, first_day: int
) -> str:
    """One event on the day ``first_day`` days from now; one that starts in the past (the day
    before) runs until the day after, so that it runs today whenever the run ends."""

    def local(days: int) -> str:
        return (now + timedelta(days=days)).isoformat()

    day = (now + timedelta(days=first_day)).date().isoformat()
    last_day = (now + timedelta(days=first_day + (2 if first_day < 0 else 0))).date().isoformat()
    return f"""[[events]]
slug = "{slug}"
title = "{title}"
kind = "webinar"
{mode.format(slug=slug)}
timezone = "UTC"
starts_at = {day}T09:00:00
ends_at = {last_day}T11:00:00
registration_opens_at = {local(-1)}
registration_closes_at = {local(30)}
capacity = {capacity}
host_partner = "eventreg benchmarks"
"""


def _execute(engine: sa.Engine, statement: str) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text(statement))
