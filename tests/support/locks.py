"""Two use cases at the same moment, on PostgreSQL: waiting until one waits for the other."""

import threading
import time
from collections.abc import Callable
from typing import Any

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


def as_another_request(
    app, work: Callable[[], Any], errors: list[str], results: list[Any] | None = None
) -> threading.Thread:
    """A thread, not yet started, that runs ``work`` with an app context and a session of its
    own, as a second request does: what it raised goes to ``errors``, what it returned to
    ``results``."""

    def run():
        with app.app_context():
            try:
                result = work()
                if results is not None:
                    results.append(result)
            except Exception as exc:
                errors.append(repr(exc)[:900])
            finally:
                db.session.remove()

    return threading.Thread(target=run)


def twice_at_once(app, monkeypatch, module, work: Callable[[], Any]) -> tuple[list, list[str]]:
    """Run ``work`` as another request and, once that one has queued its first e-mail
    (``module.enqueue``) and so holds its locks, uncommitted, here: what the two returned, and
    what they raised. The second must wait for the first, then see what it did."""
    written, first = threading.Event(), {}
    real_enqueue = module.enqueue

    def pausing(*args, **kwargs):
        real_enqueue(*args, **kwargs)
        if threading.current_thread() is first.get("thread") and not written.is_set():
            written.set()
            wait_until(someone_waits_for_a_lock)  # queued, not committed: the other waits

    monkeypatch.setattr(module, "enqueue", pausing)
    results, errors = [], []
    thread = as_another_request(app, work, errors, results)
    first["thread"] = thread
    thread.start()
    assert written.wait(10)
    try:
        results.append(work())
    except Exception as exc:
        errors.append(repr(exc)[:900])
    thread.join()
    return results, errors


def second_waits_for_first(
    app,
    first: Callable[[], Any],
    second: Callable[[], Any],
    paused: threading.Event,
    go_on: threading.Event,
) -> list[str]:
    """Run ``first`` as another request until it pauses holding its locks (it sets ``paused``
    and waits for ``go_on``), then ``second`` as a third, which must wait for a lock; then let
    the first go on and both finish. What the two raised."""
    errors: list[str] = []
    holding = as_another_request(app, first, errors)
    holding.start()
    assert paused.wait(10)
    waiting = as_another_request(app, second, errors)
    waiting.start()
    try:
        wait_until(someone_waits_for_a_lock)
    finally:
        go_on.set()
        holding.join()
        waiting.join()
    return errors
