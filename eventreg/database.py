"""Engine set-up and write transactions that serialise on SQLite and PostgreSQL alike."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db
from .models.types import UTCDateTime

_wants_write_lock: ContextVar[bool] = ContextVar("wants_write_lock", default=False)


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Make SQLite honour foreign keys, use WAL and take its write lock at BEGIN when asked."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling never emits BEGIN IMMEDIATE; we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock.get() else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block in one transaction that holds the write lock from its first statement.

    On SQLite the transaction starts with BEGIN IMMEDIATE, so two writers never read the same
    snapshot and then collide; on PostgreSQL callers lock the rows they decide on
    (``with_for_update``). Commits at the end, rolls back on any exception.
    """
    session = db.session()
    if session.in_transaction():
        # A read-only snapshot from earlier in the request; a write lock needs a fresh one.
        session.commit()
    token = _wants_write_lock.set(True)
    try:
        with session.begin():
            yield
    finally:
        _wants_write_lock.reset(token)


def render_migration_item(type_, obj, autogen_context):
    """Write our column types into migrations as the plain SQLAlchemy types they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False
