"""Two use cases at the same moment, on PostgreSQL: waiting until one waits for the other."""

import time

from sqlalchemy import text

from eventreg.extensions import db


def wait_until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def someone_waits_for_a_lock() -> bool:
    """Whether a session of this test's database waits for a row or table lock now."""
    with db.engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        )
