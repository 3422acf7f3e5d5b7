"""Engine set-up and write transactions that serialise on SQLite and PostgreSQL alike."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, TypeVar

from flask import Flask, has_request_context
from sqlalchemy import (
    ColumnDefault,
    Executable,
    Insert,
    Select,
    event,
    exc,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine, Result, ScalarResult
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from .extensions import db
from .models.types import UTCDateTime

_wants_write_lock: ContextVar[bool] = ContextVar("wants_write_lock", default=False)
_DEPTH = "write_transaction_depth"  # in Session.info: how many write_transaction blocks are open
_FLUSHED = "flushed_writes"  # in Session.info: the open transaction has flushed changes
_SAVED = "saved_new"  # in Session.info: objects save_new wrote in the open write_transaction
_RETURNED_AT = "returned_at"  # in a pooled connection's info: when it went back to the pool
T = TypeVar("T")
M = TypeVar("M")


def init_app(app: Flask) -> None:
    """Set up the engine for our write transactions and watch sessions for unowned writes."""
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        ping_when_idle(db.engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])
    track_writes()


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Send BEGIN only where a transaction is needed (``_begin_statement``); make SQLite honour
    foreign keys, use WAL and take its write lock at BEGIN."""
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout_ms)
    elif engine.dialect.name == "postgresql":
        _configure_postgresql(engine)
    else:
        return

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        statement = _begin_statement(connection)
        if statement:
            connection.exec_driver_sql(statement)

    event.listen(engine, "before_cursor_execute", _refuse_writes_outside_transactions)


# What a statement that writes or locks rows starts with, or contains.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE")
_LOCKS = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")


def _refuse_writes_outside_transactions(connection, _cursor, statement, *_args) -> None:
    """A write, or a row lock, outside a transaction would commit, or end, at once: refused.

    Only a request's reads run outside one (``_begin_statement``); the ORM's writes there are
    refused earlier (``track_writes``), this catches text and Core statements too.
    """
    writes = statement.lstrip()[:7].upper().startswith(_WRITES)
    if (writes or any(map(statement.__contains__, _LOCKS))) and not _in_transaction(connection):
        raise UnownedWork(f"rows written or locked outside write_transaction(): {statement}")


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling never emits BEGIN IMMEDIATE; we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # SQLite's lower() knows only ASCII: searches (ilike, lower()) would miss "Östersund"
        # for "östersund". Python's, as PostgreSQL's, lowers every script.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        if _isolation_level(engine) == "READ COMMITTED":
            dbapi_connection.autocommit = True  # psycopg sends no BEGIN of its own
        # At any other level psycopg begins each transaction itself, reads included.


def _begin_statement(connection: Connection) -> str | None:
    """How to begin: a request's reads run without a transaction, everything else in one.

    A read sees what is committed when it starts, so a request's plain reads need no
    transaction (PostgreSQL at READ COMMITTED, SQLite in WAL mode, one statement at a time).
    Opening and closing one cost every request that read a BEGIN and a ROLLBACK (two round
    trips to PostgreSQL, where psycopg also answered every ROLLBACK by forgetting the
    statements it had prepared), and a sign-up on SQLite a commit of its read snapshot before
    taking the write lock. BEGIN is sent by ``write_transaction`` (on SQLite BEGIN IMMEDIATE,
    which takes the write lock), also when it goes on after the request's reads, for rows read
    in batches (``streamed``), and outside requests (commands, migrations, the mail worker). A
    request's write outside ``write_transaction`` is refused before it reaches the database
    (``track_writes`` for the ORM, ``_refuse_writes_outside_transactions`` for any statement),
    so no statement ever commits on its own.
    """
    if not _driver_autocommits(connection):
        return None  # the driver begins by itself
    if _wants_write_lock.get():
        return "BEGIN IMMEDIATE" if connection.dialect.name == "sqlite" else "BEGIN"
    return None if has_request_context() else "BEGIN"


def _driver_autocommits(connection: Connection) -> bool:
    dbapi_connection = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite":
        return dbapi_connection.isolation_level is None
    return bool(getattr(dbapi_connection, "autocommit", False))


def _in_transaction(connection: Connection) -> bool:
    """Whether the connection's statements run in a transaction (the driver's own, or ours)."""
    return not _driver_autocommits(connection) or _server_transaction_open(connection)


def begin_on_server(session: Session | None = None) -> None:
    """Make sure the session's statements from here on run in one transaction on the server.

    Only a request's reads run without one (``_begin_statement``); the transaction ends with
    the session's, at its commit or rollback.
    """
    connection = (session or db.session()).connection()
    if not _in_transaction(connection):
        connection.exec_driver_sql(_begin_statement(connection) or "BEGIN")


def read_snapshot() -> None:
    """Make the session's reads from here on see the database at one moment, on both databases:
    an export's day columns and its rows, read by separate statements, then agree.

    SQLite's transactions are snapshots; PostgreSQL's are at REPEATABLE READ. A transaction
    already open (outside a request) is kept as it is.
    """
    connection = db.session().connection()
    if not _in_transaction(connection):
        snapshot = connection.dialect.name == "postgresql"
        connection.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ" if snapshot else "BEGIN")


def _server_transaction_open(connection: Connection) -> bool:
    dbapi_connection = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite":
        return dbapi_connection.in_transaction
    from psycopg.pq import TransactionStatus

    return dbapi_connection.info.transaction_status != TransactionStatus.IDLE


def streamed(statement: Executable, batch_size: int) -> Result:
    """Run a statement whose rows are fetched ``batch_size`` at a time, as they are read.

    On PostgreSQL the batches come from a server-side cursor, which lives in a transaction.
    Through the session's connection, not the ORM: the rows are the same, and the ORM's work
    on each cost about 40% of fetching them (SQLite, 50,000 rows).
    """
    begin_on_server()
    return db.session.connection().execute(statement.execution_options(yield_per=batch_size))


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled server connection before use only when it has been idle that long.

    ``pool_pre_ping`` checks every checkout: a round trip on every request. A connection in
    use moments ago is alive; one idle for a while may have been closed by the server (a
    restart, an idle timeout, a firewall), and is replaced before the request sees it. The
    price: when the server closes connections within ``idle_seconds`` of their last use, a
    request that takes one fails, and the pool then replaces every connection it held. A
    SQLite file is never closed under us: its connections are never pinged.
    """
    if engine.dialect.name == "sqlite":
        return

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, _proxy):
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < idle_seconds:
            return  # new, or used moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"idle connection closed: {error}") from error


class UnownedWork(RuntimeError):
    """Changes were made outside any write transaction; committing them would hide where."""


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block as one use case: one transaction that holds the write lock throughout.

    On SQLite the transaction starts with BEGIN IMMEDIATE, so two writers never read the same
    snapshot and then collide; on PostgreSQL the rules lock the rows they decide on
    (``locking``). The outermost block commits at its end and rolls back on any exception. A
    block inside another joins it through a savepoint: it never commits, and if it raises only
    its own work is undone before the exception reaches the outer block.
    """
    session = db.session()
    if session.info.get(_DEPTH):
        session.info[_DEPTH] += 1
        mark = len(session.info[_SAVED])
        try:
            with session.begin_nested():
                yield
        except BaseException:
            _forget_saved(session, mark)
            raise
        finally:
            session.info[_DEPTH] -= 1
        return
    continued = session.in_transaction()
    if continued:
        # Reads from earlier in the request. Never commit work this block did not start.
        if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED):
            raise UnownedWork("changes were made outside write_transaction()")
        if not _reads_see_commits(session):
            # SQLite's read snapshot (outside a request): end it, so that the write lock and
            # every read below see the database as it is now.
            session.commit()
            continued = False
    token = _wants_write_lock.set(True)
    session.info[_DEPTH] = 1
    session.info[_SAVED] = []
    try:
        if continued:
            # PostgreSQL (READ COMMITTED), or a request's reads: every statement saw what was
            # committed when it ran, so the use case goes on in the session's transaction;
            # ending it first only cost a COMMIT, a connection from the pool and a BEGIN. A
            # request's reads ran without a transaction on the server: the use case's own
            # starts here (on SQLite with its write lock).
            try:
                begin_on_server()
                yield
                session.commit()
            except BaseException:
                session.rollback()
                raise
        else:
            with session.begin():
                yield
    except BaseException:
        _forget_saved(session, 0)
        raise
    finally:
        session.info.pop(_DEPTH, None)
        session.info.pop(_SAVED, None)
        _wants_write_lock.reset(token)


def _reads_see_commits(session: Session) -> bool:
    """Whether the session's reads so far see every commit as it happens: PostgreSQL's READ
    COMMITTED (its default, and ours), or a request's reads run without a transaction; not
    SQLite's snapshot nor a stricter level."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql" and _isolation_level(bind) == "READ COMMITTED":
        return True
    return not _in_transaction(session.connection())


def _isolation_level(engine: Engine) -> str:
    """The level the engine's connections run at: as configured, else the server's default."""
    configured = engine.get_execution_options().get("isolation_level")
    return configured or engine.dialect.default_isolation_level


def _forget_saved(session: Session, mark: int) -> None:
    """Objects ``save_new`` wrote in an undone block leave the session, as pending ones do.

    The session took them for loaded rows; left in it, they would stand for rows that do not
    exist (and SQLite gives the next row the same id).
    """
    saved = session.info[_SAVED]
    for instance in saved[mark:]:
        if instance in session:
            session.expunge(instance)
    del saved[mark:]


def in_write_transaction() -> bool:
    """Whether the current session is inside ``write_transaction()``."""
    return bool(db.session().info.get(_DEPTH))


def locking(statement: Select[T], *, of: Any = None) -> Select[T]:
    """The statement with its rows locked and re-read: the decision is taken on them as they are.

    ``populate_existing`` overwrites what objects already loaded in the session hold, so a
    value read before the lock (another worker may have changed it since) is never used.
    On SQLite the write transaction's BEGIN IMMEDIATE is the lock; on PostgreSQL
    ``FOR UPDATE`` (of the ``of`` tables only, when given).
    """
    _require_write_transaction()
    return for_update(statement, of=of)


def for_update(statement: Select[T], *, of: Any = None) -> Select[T]:
    """``locking``'s statement, to build once where a hot path runs it (with ``locked_rows``).

    Building a statement, and its cache key, costs more than running it.
    """
    return statement.with_for_update(of=of).execution_options(populate_existing=True)


def for_share(statement: Select[T], *, of: Any = None) -> Select[T]:
    """The statement with its rows kept from change until the commit, while others may read
    them so too: ``FOR SHARE`` on PostgreSQL (a ``FOR UPDATE`` waits for it, and it for a
    ``FOR UPDATE``); on SQLite the write transaction's BEGIN IMMEDIATE. Build it once; run it
    inside ``write_transaction``."""
    return statement.with_for_update(read=True, of=of)


def locked_rows(statement: Select[T], params: dict[str, Any]) -> ScalarResult[T]:
    """Run a statement made by ``for_update`` with these parameters."""
    _require_write_transaction()
    return db.session.scalars(statement, params)


def _require_write_transaction() -> None:
    if not in_write_transaction():
        raise RuntimeError("rows are locked only inside write_transaction()")


def lock(instance: M) -> M:
    """Lock one loaded row and read it again inside the write transaction."""
    model = type(instance)
    return db.session.scalars(locking(select(model).where(model.id == instance.id))).one()


def save_new(instance: M) -> M:
    """Write a new object with one INSERT now and keep it in the session as loaded.

    For the rows a rush creates (a sign-up's person and registration): the unit of work costs
    several times the INSERT itself. Columns left unset get their defaults, as a flush would
    give them; relationships are not written (set the foreign keys, and attach related
    objects with ``attach``). The object is persistent afterwards, with no pending change.
    """
    statement, key_of_id, columns = _insert_plan(type(instance))
    state = instance.__dict__
    values = {}
    for name, key, default in columns:
        if key not in state:
            if default is None:
                continue  # the database's own default
            setattr(instance, key, default())
        values[name] = state[key]
    setattr(instance, key_of_id, db.session.execute(statement, values).scalar_one())
    make_transient_to_detached(instance)
    db.session.add(instance)
    db.session.info.setdefault(_SAVED, []).append(instance)  # forgotten if the block is undone
    return instance


@cache
def _insert_plan(
    model: type,
) -> tuple[Insert, str, list[tuple[str, str, Callable[[], Any] | None]]]:
    """The model's INSERT returning its id, and each other column's attribute and default.

    An unset column with only a server default is left to the database (and loads when read).
    """
    mapper = inspect(model)
    (primary_key,) = mapper.primary_key
    columns = [
        (
            column.key,
            mapper.get_property_by_column(column).key,
            None
            if column.default is None and column.server_default is not None
            else _python_default(column.default),
        )
        for column in mapper.local_table.columns
        if column is not primary_key
    ]
    statement = insert(mapper.local_table).returning(primary_key)
    return statement, mapper.get_property_by_column(primary_key).key, columns


def _python_default(default: ColumnDefault | None) -> Callable[[], Any]:
    if default is None:
        return lambda: None
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps the callable to take a context
    if default.is_scalar:
        return lambda: default.arg
    raise TypeError(f"save_new cannot compute the default {default!r} in Python")


def attach(instance: Any, relationship: str, value: Any) -> None:
    """Set a relationship of a loaded object as already stored (no change to write)."""
    set_committed_value(instance, relationship, value)


def track_writes() -> None:
    """Refuse a request's writes outside ``write_transaction``, and remember any other.

    In a request they are refused before they reach the database (on PostgreSQL its reads
    run without a transaction, which would commit them at once); elsewhere a transaction
    that flushed writes is never committed blind by a later ``write_transaction``.
    """
    if event.contains(Session, "after_flush", _remember_flush):
        return
    event.listen(Session, "before_flush", _refuse_unowned_flush)
    event.listen(Session, "after_flush", _remember_flush)
    event.listen(Session, "do_orm_execute", _watch_execute)
    event.listen(Session, "after_transaction_end", _forget_flush)


def _refuse_unowned_flush(session: Session, _context, _instances) -> None:
    if has_request_context() and not session.info.get(_DEPTH):
        changed = session.new or session.deleted or any(map(session.is_modified, session.dirty))
        if changed:
            raise UnownedWork("a request changed rows outside write_transaction()")


def _remember_flush(session: Session, _context) -> None:
    session.info[_FLUSHED] = True


def _watch_execute(state) -> None:
    options = state.execution_options
    if options.get("yield_per") or options.get("stream_results"):
        begin_on_server(state.session)  # rows in batches: a server-side cursor needs one
    if state.is_insert or state.is_update or state.is_delete:
        if has_request_context() and not state.session.info.get(_DEPTH):
            raise UnownedWork("a request wrote rows outside write_transaction()")
        state.session.info[_FLUSHED] = True


def _forget_flush(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_FLUSHED, None)


def render_migration_item(type_, obj, autogen_context):
    """Write our column types into migrations as the plain SQLAlchemy types they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False
