"""Many people grabbing the last seats at once never overbook an event (SQLite file, PostgreSQL)."""

import contextlib
import multiprocessing
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg import create_app
from eventreg.extensions import db
from eventreg.models import Event, Registrant, Registration, RegistrationStatus, User, utcnow
from eventreg.services import audit, checkin, privacy, registrations
from tests.support.database import base_config
from tests.support.factories import details, person
from tests.support.locks import as_another_request, someone_waits_for_a_lock, wait_until

THREADS = 24
CAPACITY = 5


def status_counts(event_id):
    db.session.rollback()  # leave the snapshot this test's session began before the rush
    rows = db.session.execute(
        select(Registration.status, func.count())
        .where(Registration.event_id == event_id)
        .group_by(Registration.status)
    )
    return dict(rows.all())


def test_threads_hammering_the_last_seats_over_http(app, make_event):
    event = make_event(capacity=CAPACITY)
    url = f"/api/v1/events/{event.slug}/registrations"
    start = threading.Barrier(THREADS)
    results = []

    def attempt(n):
        client = app.test_client()
        start.wait()
        body = person(email=f"rush{n}@example.org") | {"consent": True}
        response = client.post(url, json=body)
        results.append((response.status_code, response.get_json().get("status")))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(results) == {
        (201, "confirmed"): CAPACITY,
        (201, "waitlisted"): THREADS - CAPACITY,
    }
    assert status_counts(event.id) == {
        RegistrationStatus.CONFIRMED: CAPACITY,
        RegistrationStatus.WAITLISTED: THREADS - CAPACITY,
    }


def test_cancellations_and_sign_ups_racing_keep_the_count_exact(app, make_event, sign_up):
    event = make_event(capacity=3)
    holders = [sign_up(event) for _ in range(3)]
    holder_registrations = [h.registrations[0] for h in holders]
    start = threading.Barrier(9)

    def cancel(registration_id):
        with app.app_context():
            start.wait()
            registrations.cancel(db.session.get(Registration, registration_id))

    def join(n):
        with app.app_context():
            start.wait()
            registrations.sign_up(
                details(email=f"late{n}@example.org"),
                [db.session.get(Event, event.id)],
                "test",
            )

    threads = [threading.Thread(target=cancel, args=(r.id,)) for r in holder_registrations]
    threads += [threading.Thread(target=join, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = status_counts(event.id)
    assert counts[RegistrationStatus.CONFIRMED] == 3
    assert counts[RegistrationStatus.CANCELLED] == 3
    assert counts[RegistrationStatus.WAITLISTED] == 3


def _sign_up_in_a_process(database_url, event_id, worker, attempts, start):
    """Run in a separate process: its own app, engine and connections."""
    app = create_app(base_config(database_url))
    statuses = []
    with app.app_context():
        start.wait()
        for n in range(attempts):
            registrant = registrations.sign_up(
                details(email=f"p{worker}-{n}@example.org"),
                [db.session.get(Event, event_id)],
                "test",
            )
            statuses.append(registrant.registrations[0].status.value)
        db.engine.dispose()
    return statuses


def test_processes_hammering_the_last_seats(app, database_url, make_event):
    event = make_event(capacity=CAPACITY)
    processes, attempts = 4, 8
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(processes)
        with context.Pool(processes) as pool:
            results = pool.starmap(
                _sign_up_in_a_process,
                [(database_url, event.id, w, attempts, start) for w in range(processes)],
            )
    outcome = Counter(status for statuses in results for status in statuses)
    assert outcome == {"confirmed": CAPACITY, "waitlisted": processes * attempts - CAPACITY}
    assert status_counts(event.id)[RegistrationStatus.CONFIRMED] == CAPACITY


def active_at(event_id: int, email: str) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .join(Registration.registrant)
        .where(Registration.event_id == event_id, Registrant.email == email)
        .where(Registration.status != RegistrationStatus.CANCELLED)
    )


def test_adding_events_checks_the_address_as_it_is_now(app, make_event, sign_up):
    """The manage page reads the person as the request starts; meanwhile their other tab saved
    a new address, one that already holds a place at the event being added. The address as it
    is now is checked: it never holds two places at one event."""
    first, second = make_event(), make_event()
    ana = sign_up(first)
    sign_up(second, email="shared@example.org")
    assert ana.email != "shared@example.org"  # read, as the manage page does
    with app.app_context():  # another worker
        registrations.update_details(
            db.session.get(Registrant, ana.id), details(email="shared@example.org")
        )
        db.session.remove()
    with pytest.raises(registrations.AlreadyRegistered):
        registrations.add_events(ana, [second])
    assert active_at(second.id, "shared@example.org") == 1


@pytest.mark.postgresql_only  # SQLite's BEGIN IMMEDIATE runs the two one after the other
def test_an_erasure_cancels_a_registration_added_at_the_same_moment(app, make_event, monkeypatch):
    """The person adds an event from the manage page in one tab and erases their data in
    another: the erasure waits for the added registration and cancels it with the rest (an
    anonymous seat, or a waiting place later promoted, would be left)."""
    first, second = make_event(), make_event()
    registrant = registrations.sign_up(details(), [first], "test")
    registrant_id, second_id = registrant.id, second.id
    db.session.rollback()
    db.session.expunge_all()
    written = threading.Event()
    adder = {}
    real_record = audit.record

    def pausing(action, **kwargs):
        real_record(action, **kwargs)
        if action == "signed_up" and threading.current_thread() is adder.get("thread"):
            written.set()
            wait_until(someone_waits_for_a_lock)  # written, not committed: the erasure waits

    monkeypatch.setattr(registrations.audit, "record", pausing)
    errors = []

    def add():
        person_row = db.session.get(Registrant, registrant_id)
        registrations.add_events(person_row, [db.session.get(Event, second_id)])

    thread = as_another_request(app, add, errors)
    adder["thread"] = thread
    thread.start()
    assert written.wait(10)
    privacy.erase(db.session.get(Registrant, registrant_id))
    thread.join()
    assert errors == []
    db.session.rollback()
    erased = db.session.get(Registrant, registrant_id)
    assert erased.is_purged
    assert [(r.event_id, r.status) for r in erased.registrations if r.is_active] == []


@pytest.mark.postgresql_only  # SQLite's BEGIN IMMEDIATE runs the two one after the other
def test_a_new_address_while_another_tab_adds_an_event_and_someone_signs_up_for_both(
    app, make_event, monkeypatch
):
    """Ana corrects her address; her events are locked when her other tab adds an earlier
    event; as she is locked, someone signs up for that event and hers. Locking the added event
    then would wait for that sign-up, which waits for hers: a deadlock, a 500 for one of them.
    Her change lets go and takes the events again, in order."""
    earlier, hers = make_event(), make_event()
    ana = registrations.sign_up(details(email="ana@example.org"), [hers], "test")
    ana_id, earlier_id, ids = ana.id, earlier.id, (earlier.id, hers.id)
    db.session.rollback()
    db.session.expunge_all()
    main = threading.current_thread()
    real_lock_events, real_lock = registrations._lock_events, registrations.lock
    errors, steps = [], []

    def other_tab():
        registrations.add_events(
            db.session.get(Registrant, ana_id), [db.session.get(Event, earlier_id)]
        )

    def someone_else():
        events = [db.session.get(Event, event_id) for event_id in ids]
        registrations.sign_up(details(email="carla@example.org"), events, "test")

    def lock_events(event_ids):
        found = real_lock_events(event_ids)
        if threading.current_thread() is main and not steps:
            steps.append("her events")  # locked: the other tab adds one and is done
            thread = as_another_request(app, other_tab, errors)
            thread.start()
            thread.join()
        return found

    def lock(row, *args, **kwargs):
        found = real_lock(row, *args, **kwargs)
        if threading.current_thread() is main and isinstance(row, Registrant) and len(steps) == 1:
            steps.append("her")  # locked: the sign-up takes the earlier event, waits for hers
            signing_up.start()
            wait_until(someone_waits_for_a_lock)
        return found

    signing_up = as_another_request(app, someone_else, errors)
    monkeypatch.setattr(registrations, "_lock_events", lock_events)
    monkeypatch.setattr(registrations, "lock", lock)
    try:
        registrations.update_details(
            db.session.get(Registrant, ana_id), details(email="ana.petrova@example.org")
        )
    except Exception as exc:
        errors.append(repr(exc)[:900])
    signing_up.join()
    assert errors == [] and steps == ["her events", "her"]
    db.session.rollback()
    ana = db.session.get(Registrant, ana_id)
    assert ana.email == "ana.petrova@example.org"
    assert sorted(r.event_id for r in ana.active_registrations) == sorted(ids)


@pytest.mark.postgresql_only  # SQLite's BEGIN IMMEDIATE runs the two one after the other
def test_undoing_a_check_in_while_the_registration_is_cancelled(
    app, make_event, make_user, monkeypatch
):
    """The door undoes a mistaken scan while the person cancels: both take the event first,
    so neither waits for the other in a circle (a deadlock, a 500 for one of them)."""
    now = utcnow()
    event = make_event(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1))
    registrant = registrations.sign_up(details(), [event], "test")
    staff = make_user("checkin", "door@example.org")
    registration = registrant.registrations[0]
    assert checkin.check_in(registration, staff=staff).result is checkin.CheckinResult.OK
    registration_id, staff_id = registration.id, staff.id
    db.session.rollback()
    db.session.expunge_all()
    undoing = threading.Event()
    undoer = {}
    real_record = audit.record

    def pausing(action, **kwargs):
        if action == "check_in_undone" and threading.current_thread() is undoer.get("thread"):
            undoing.set()  # what the undo locks is locked by now
            with contextlib.suppress(AssertionError):  # with the fix, the cancel waits earlier
                wait_until(someone_waits_for_a_lock, timeout=2)
        return real_record(action, **kwargs)

    monkeypatch.setattr(checkin.audit, "record", pausing)
    errors = []

    def undo():
        checkin.undo_check_in(
            db.session.get(Registration, registration_id), staff=db.session.get(User, staff_id)
        )

    thread = as_another_request(app, undo, errors)
    undoer["thread"] = thread
    thread.start()
    assert undoing.wait(10)
    try:
        registrations.cancel(db.session.get(Registration, registration_id))
    except Exception as exc:
        errors.append(repr(exc)[:900])
    thread.join()
    assert errors == []
    db.session.rollback()
    cancelled = db.session.get(Registration, registration_id)
    assert cancelled.status is RegistrationStatus.CANCELLED and cancelled.checked_in_at is None
