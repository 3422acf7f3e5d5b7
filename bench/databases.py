"""Fresh databases set up as in production: migrated, programme loaded, plus the bench events."""

import itertools
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from .server import venv_command
from .settings import RUSH_EVENT, SIGNUP_EVENT, SIGNUP_EVENT_CAPACITY

_numbers = itertools.count(1)


@contextmanager
def fresh_database(backend: str, workdir: Path, postgres_url: str | None) -> Iterator[str]:
    """Yield the URL of a new, empty database; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'eventreg-{next(_numbers)}.sqlite3'}"
        return
    name = f"eventreg_bench_{os.getpid()}_{next(_numbers)}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        _execute(admin, f'CREATE DATABASE "{name}"')
        yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
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


def service_env(database_url: str, secret_key: str) -> dict[str, str]:
    """The EVENTREG_* settings that production passes through the environment."""
    return {"EVENTREG_SECRET_KEY": secret_key, "EVENTREG_SQLALCHEMY_DATABASE_URI": database_url}


def set_up_like_production(root: Path, env: dict[str, str], programme: Path) -> None:
    """Migrate and load the shipped programme with the README's commands, then ours."""
    for args in (["db", "upgrade"], ["programme", "load"], ["programme", "load", str(programme)]):
        finished = subprocess.run(
            [venv_command("flask"), "--app", "eventreg", *args],
            cwd=root,
            env=os.environ | env,
            capture_output=True,
            text=True,
        )
        if finished.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{finished.stderr}")


def write_bench_programme(path: Path, rush_seats: int) -> Path:
    """A programme file with our two events, open for registration now, in UTC."""
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    events = (
        (SIGNUP_EVENT, "Bench webinar: sign-up throughput", SIGNUP_EVENT_CAPACITY),
        (RUSH_EVENT, "Bench webinar: the rush", rush_seats),
    )
    path.write_text("\n".join(_event_table(now, *event) for event in events), encoding="utf-8")
    return path


def _event_table(now: datetime, slug: str, title: str, capacity: int) -> str:
    def local(days: int) -> str:
        return (now + timedelta(days=days)).isoformat()

    day = (now + timedelta(days=60)).date().isoformat()
    return f"""[[events]]
slug = "{slug}"
title = "{title}"
kind = "webinar"
mode = "online"
timezone = "UTC"
starts_at = {day}T09:00:00
ends_at = {day}T11:00:00
registration_opens_at = {local(-1)}
registration_closes_at = {local(30)}
capacity = {capacity}
host_partner = "eventreg benchmarks"
online_url = "https://meet.example.org/{slug}"
"""


def _execute(engine: sa.Engine, statement: str) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text(statement))
