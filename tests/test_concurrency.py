"""Many people grabbing the last seats at once never overbook an event (SQLite file, PostgreSQL)."""

import multiprocessing
import threading
from collections import Counter

from sqlalchemy import func, select

from eventreg import create_app
from eventreg.extensions import db
from eventreg.models import Event, Registration, RegistrationStatus
from eventreg.services import registrations
from tests.support.database import base_config
from tests.support.factories import details, person

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
