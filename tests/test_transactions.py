"""One use case, one transaction: nested blocks join, failures undo everything, locks re-read.

Every test runs on a SQLite file and on PostgreSQL. "Another worker" is a second database
session: a new app context has its own.
"""

from contextlib import contextmanager
from dataclasses import asdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from eventreg.database import UnownedWork, lock, locking, save_new, write_transaction
from eventreg.extensions import db
from eventreg.models import (
    AuditEntry,
    Event,
    EventStatus,
    Member,
    MessageKind,
    OutboxMessage,
    Registrant,
    Registration,
    RegistrationStatus,
    utcnow,
)
from eventreg.services import (
    checkin,
    events,
    join_links,
    members,
    privacy,
    programme,
    registrations,
)
from eventreg.services.checkin import CheckinResult
from tests.support.admin_forms import edit_form
from tests.support.factories import details, person


class Boom(RuntimeError):
    """The fault a test injects into the second step of a use case."""


@contextmanager
def another_worker(app):
    """A second session, as another gunicorn worker would have; it commits on its own."""
    with app.app_context():
        yield
        db.session.remove()


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def fail_after(monkeypatch, module, name):
    """Make ``module.name`` do its work, then raise: the step fails after writing."""
    real = getattr(module, name)

    def failing(*args, **kwargs):
        real(*args, **kwargs)
        raise Boom(name)

    monkeypatch.setattr(module, name, failing)


# --- write_transaction itself -------------------------------------------------------------


def test_a_nested_block_joins_and_only_the_outermost_commits(app, make_event):
    event = make_event(capacity=5)
    with pytest.raises(Boom), write_transaction():
        with write_transaction():
            lock(event).capacity = 6
        raise Boom("after the inner block")
    db.session.expire_all()
    assert db.session.get(Event, event.id).capacity == 5


def test_a_failed_nested_block_is_undone_alone_when_the_outer_one_goes_on(app, make_event):
    event = make_event(capacity=5, venue="Sala A")
    with write_transaction():
        lock(event).venue = "Sala B"
        with pytest.raises(Boom), write_transaction():
            lock(event).capacity = 6
            raise Boom("inner")
    db.session.expire_all()
    stored = db.session.get(Event, event.id)
    assert (stored.venue, stored.capacity) == ("Sala B", 5)


def test_changes_made_outside_a_write_transaction_are_never_committed_by_one(app, make_event):
    event = make_event(capacity=5)
    event.capacity = 99  # not inside any use case
    with pytest.raises(UnownedWork), write_transaction():
        pass
    db.session.rollback()
    assert db.session.get(Event, event.id).capacity == 5


def new_person() -> Registrant:
    return Registrant(**asdict(details()), consent_at=utcnow(), privacy_notice_version="1")


def test_a_row_saved_at_once_is_complete_and_stays_in_the_use_case(app, make_event):
    """save_new writes one INSERT with the model's defaults and leaves nothing to flush."""
    with write_transaction():
        person_row = save_new(new_person())
        assert person_row.id is not None and len(person_row.manage_key) > 20
        assert person_row.created_at is not None and person_row.network_opt_in is False
        assert not db.session.new and not db.session.dirty
        person_row.organisation = "Changed within the use case"
    key = person_row.manage_key
    with another_worker(app):
        stored = db.session.scalars(select(Registrant).where(Registrant.manage_key == key)).one()
        assert stored.organisation == "Changed within the use case"
        assert stored.created_at == person_row.created_at


def test_a_row_saved_at_once_is_undone_with_its_use_case(app):
    with pytest.raises(Boom), write_transaction():
        save_new(new_person())
        raise Boom("after the INSERT")
    assert count(Registrant) == 0


def test_a_row_saved_in_a_failed_use_case_leaves_the_session(app):
    """Undone rows leave no object behind: SQLite gives the next row the same id."""
    with pytest.raises(Boom), write_transaction():
        undone = save_new(new_person())
        raise Boom("after the INSERT")
    assert undone not in db.session
    with write_transaction():
        kept = save_new(new_person())
    assert kept in db.session and count(Registrant) == 1


def test_a_row_saved_in_a_failed_savepoint_leaves_the_session_alone(app):
    with write_transaction():
        kept = save_new(new_person())
        with pytest.raises(Boom), write_transaction():
            undone = save_new(new_person())
            raise Boom("inside the savepoint")
        again = save_new(new_person())
    assert undone not in db.session and kept in db.session and again in db.session
    assert count(Registrant) == 2


def test_a_sign_up_that_fails_after_writing_its_rows_keeps_nothing(client, make_event, monkeypatch):
    """The person, registration and audit entry are written before the e-mail is queued."""
    event = make_event()
    fail_after(monkeypatch, registrations, "enqueue")
    body = person() | {"consent": True}
    assert client.post(f"/api/v1/events/{event.slug}/registrations", json=body).status_code == 500
    assert count(Registrant) == count(Registration) == count(AuditEntry) == 0
    assert count(OutboxMessage) == 0


def test_rows_are_locked_only_inside_a_write_transaction(app):
    with pytest.raises(RuntimeError, match="write_transaction"):
        locking(select(Event))


# --- multi-step use cases: the second step fails, nothing of the first is kept -------------


def test_an_event_update_is_undone_when_filling_the_waiting_list_fails(
    app, make_event, sign_up, make_user, monkeypatch
):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = sign_up(event).registrations[0]
    outbox_before = count(OutboxMessage)
    fail_after(monkeypatch, events, "fill_from_waitlist")
    with pytest.raises(Boom):
        events.update_event(
            event, {"capacity": 2, "venue": "Sala Nuova"}, actor=make_user("organiser")
        )
    db.session.expire_all()
    stored = db.session.get(Event, event.id)
    assert (stored.capacity, stored.venue) == (1, "Palazzo Frizzoni")
    assert db.session.get(Registration, waiting.id).is_waitlisted
    assert count(OutboxMessage) == outbox_before
    assert count(AuditEntry, AuditEntry.action == "event_updated") == 0


def test_saving_and_publishing_a_draft_is_one_change(
    client, make_event, make_user, auth, monkeypatch
):
    event = make_event(status=EventStatus.DRAFT, venue="Sala A")
    auth.login(make_user("organiser").email)
    page = client.get(f"/admin/events/{event.slug}/edit").text
    assert "Sala A" in page
    fail_after(monkeypatch, events, "publish_event")
    form = edit_form(event, venue="Sala B", publish="y")
    assert client.post(f"/admin/events/{event.slug}/edit", data=form).status_code == 500
    db.session.expire_all()
    stored = db.session.get(Event, event.id)
    assert stored.venue == "Sala A" and stored.status is EventStatus.DRAFT


def test_an_erasure_that_fails_keeps_the_registrations_and_the_queue(
    app, make_event, sign_up, monkeypatch
):
    event = make_event(capacity=1)
    holder = sign_up(event)
    waiting = sign_up(event).registrations[0]
    outbox_before = count(OutboxMessage)
    fail_after(monkeypatch, privacy, "_anonymise")
    with pytest.raises(Boom):
        privacy.erase(holder)
    db.session.expire_all()
    assert db.session.get(Registration, holder.registrations[0].id).is_confirmed
    assert db.session.get(Registration, waiting.id).is_waitlisted
    assert count(OutboxMessage) == outbox_before


def test_a_programme_update_that_fails_creates_and_changes_nothing(
    app, tmp_path, sign_up, monkeypatch
):
    text = programme.SHIPPED_PROGRAMME.read_text("utf-8").replace("capacity = 40", "capacity = 1")
    path = tmp_path / "programme.toml"
    path.write_text(text, "utf-8")
    programme.load_programme(path)
    bergamo = db.session.scalar(select(Event).where(Event.slug == "mission-bergamo"))
    sign_up(bergamo)
    sign_up(bergamo)
    db.session.execute(db.delete(AuditEntry).where(AuditEntry.event_id != bergamo.id))
    db.session.execute(db.delete(Event).where(Event.slug == "mission-odense"))
    db.session.commit()
    # The bulk delete bypassed this session: forget its objects, or SQLite's reused row ids for
    # the new Odense days would meet the deleted days still in the identity map.
    bergamo_id = bergamo.id
    db.session.expunge_all()
    path.write_text(text.replace("capacity = 1", "capacity = 2", 1), "utf-8")
    outbox_before = count(OutboxMessage)
    fail_after(monkeypatch, programme, "fill_from_waitlist")
    with pytest.raises(Boom):
        programme.apply_update(path)
    db.session.expire_all()
    assert db.session.get(Event, bergamo_id).capacity == 1
    assert count(Event, Event.slug == "mission-odense") == 0
    assert count(OutboxMessage) == outbox_before


# --- decisions are taken on rows as they are now, not as they were read ---------------------


def test_a_use_case_after_reads_decides_on_rows_committed_since(app, make_event, sign_up):
    # The request read the event (and the seats) first; meanwhile another worker took the
    # last seat. SQLite ends the read snapshot; PostgreSQL goes on in the same transaction,
    # where each statement sees what is committed when it runs. Either way: no overbooking.
    event = make_event(capacity=1)
    db.session.rollback()
    assert db.session.scalar(select(Event.capacity).where(Event.id == event.id)) == 1
    assert db.session().in_transaction()  # the request's reads
    with another_worker(app):
        sign_up(db.session.get(Event, event.id))
    late = sign_up(event).registrations[0]
    assert late.status is RegistrationStatus.WAITLISTED
    assert not db.session().in_transaction()  # committed, with the reads before it
    assert count(Registration, Registration.status == RegistrationStatus.CONFIRMED) == 1


def test_a_use_case_after_reads_undoes_only_its_own_work_when_it_fails(app, make_event):
    event = make_event(capacity=1)
    db.session.rollback()
    reread = db.session.get(Event, event.id)  # the request's reads open its transaction
    with pytest.raises(Boom), write_transaction():
        registrations.sign_up(details(), [reread], "test")
        raise Boom("after the sign-up")
    assert not db.session().in_transaction()
    assert count(Registration) == count(Registrant) == count(OutboxMessage) == 0
    assert db.session.get(Event, event.id).capacity == 1  # what was read is still usable


def test_a_join_recorded_by_another_worker_is_kept(app, make_event, sign_up):
    event = make_event(mode="online", city=None, venue=None, online_url="https://meet.example/x")
    stale = sign_up(event).registrations[0]
    assert stale.joined_online_at is None
    with another_worker(app):
        earlier = db.session.get(Registration, stale.id)
        join_links.record_join(earlier)
        first_join = earlier.joined_online_at
    join_links.record_join(stale)  # this session still believes there was no join
    db.session.expire_all()
    assert db.session.get(Registration, stale.id).joined_online_at == first_join


def test_a_ticket_checked_in_elsewhere_is_not_checked_in_twice(app, make_event, sign_up, make_user):
    now = utcnow()  # the event runs today: the door admits people
    event = make_event(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=4))
    stale = sign_up(event).registrations[0]
    first, second = make_user("checkin", "door1@example.org"), make_user("organiser")
    with another_worker(app):
        checkin.check_in(db.session.get(Registration, stale.id), staff=first)
    outcome = checkin.check_in(stale, staff=second)
    assert outcome.result is CheckinResult.ALREADY_CHECKED_IN
    db.session.expire_all()
    assert db.session.get(Registration, stale.id).checked_in_by_id == first.id
    assert count(AuditEntry, AuditEntry.action == "checked_in") == 1


def test_a_waiting_registration_cancelled_elsewhere_cannot_be_promoted(
    app, make_event, sign_up, make_user
):
    event = make_event(capacity=1)
    sign_up(event)
    stale = sign_up(event).registrations[0]
    with another_worker(app):
        registrations.cancel(db.session.get(Registration, stale.id))
    with pytest.raises(registrations.NotWaiting):
        registrations.promote(stale, actor=make_user("organiser"))
    db.session.expire_all()
    assert db.session.get(Event, event.id).capacity == 1
    assert db.session.get(Registration, stale.id).status is RegistrationStatus.CANCELLED


def test_a_registration_cancelled_elsewhere_is_cancelled_once(app, make_event, sign_up):
    event = make_event(capacity=1)
    stale = sign_up(event).registrations[0]
    first_waiting = sign_up(event).registrations[0]
    second_waiting = sign_up(event).registrations[0]
    with another_worker(app):
        promoted = registrations.cancel(db.session.get(Registration, stale.id))
        assert promoted.id == first_waiting.id
    assert registrations.cancel(stale) is None
    db.session.expire_all()
    assert db.session.get(Registration, second_waiting.id).is_waitlisted
    cancelled = count(
        OutboxMessage,
        OutboxMessage.kind == MessageKind.CANCELLED,
        OutboxMessage.registration_id == stale.id,
    )
    assert cancelled == 1


def test_an_event_update_compares_with_the_event_as_it_is_now(app, make_event, make_user):
    event = make_event(capacity=10, venue="Sala A")
    organiser = make_user("organiser")
    with another_worker(app):
        events.update_event(db.session.get(Event, event.id), {"capacity": 20}, actor=organiser)
    # This session still sees capacity 10: only the venue is a change now.
    changed = events.update_event(event, {"capacity": 20, "venue": "Sala B"}, actor=organiser)
    assert changed == {"venue"}
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "event_updated").order_by(AuditEntry.id)
    ).all()
    assert [entry.details["fields"] for entry in entries] == [["capacity"], ["venue"]]


def test_a_bulk_write_outside_a_use_case_is_not_committed_by_the_next_one(app, make_event):
    event = make_event(capacity=5)
    db.session.execute(db.update(Event).where(Event.id == event.id).values(capacity=99))
    with pytest.raises(UnownedWork), write_transaction():
        pass
    db.session.rollback()
    assert db.session.get(Event, event.id).capacity == 5


def test_a_sign_up_whose_network_join_fails_keeps_nothing(client, make_event, monkeypatch):
    event = make_event()
    fail_after(monkeypatch, members, "join")
    data = person(network_opt_in="y", consent="y") | {"events": [event.slug]}
    assert client.post("/register", data=data).status_code == 500
    assert count(Registration) == 0 and count(Member) == 0 and count(OutboxMessage) == 0


# --- a request's reads and its use case -----------------------------------------------------
# A request's reads run without a transaction on the server; its use case opens one. These
# run in a request context, where that applies (outside one, reads are in a transaction).


def server_transaction_open() -> bool:
    """Whether the session's connection has a transaction open on the database server."""
    connection = db.session.connection().connection.dbapi_connection
    if db.engine.dialect.name == "sqlite":
        return connection.in_transaction
    from psycopg.pq import TransactionStatus

    return connection.info.transaction_status != TransactionStatus.IDLE


def test_a_requests_reads_open_no_transaction_on_the_server(app, make_event):
    # BEGIN and ROLLBACK were two round trips to PostgreSQL on every request that read, and
    # each ROLLBACK made psycopg drop every statement it had prepared; SQLite committed the
    # read snapshot before each use case.
    event = make_event()
    with app.test_request_context():
        assert db.session.get(Event, event.id).capacity == 10
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
        assert not server_transaction_open()


def test_a_requests_use_case_after_its_reads_is_one_transaction(app, make_event):
    event = make_event(capacity=1)
    with app.test_request_context():
        reread = db.session.scalars(select(Event).where(Event.id == event.id)).one()
        assert db.session().in_transaction()  # the request's reads, which the use case goes on
        with pytest.raises(Boom), write_transaction():
            assert server_transaction_open()
            registrations.sign_up(details(), [reread], "test")
            raise Boom("after the sign-up")
    with another_worker(app):
        assert count(Registration) == count(Registrant) == count(OutboxMessage) == 0


def test_a_requests_change_outside_a_use_case_is_refused_before_it_is_written(app, make_event):
    event = make_event(capacity=5)
    with app.test_request_context():
        db.session.get(Event, event.id).capacity = 99
        with pytest.raises(UnownedWork):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(UnownedWork):
            db.session.execute(db.update(Event).where(Event.id == event.id).values(capacity=98))
        db.session.rollback()
    with another_worker(app):
        assert db.session.get(Event, event.id).capacity == 5


def test_a_requests_read_that_changes_nothing_is_not_refused(app, make_event):
    event = make_event(capacity=5)
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        loaded.capacity = 5  # the same value: nothing to write
        assert db.session.scalar(select(Event.capacity).where(Event.id == event.id)) == 5


def test_a_requests_use_case_decides_on_rows_committed_after_its_reads(app, make_event, sign_up):
    event = make_event(capacity=1)
    with app.test_request_context():
        reread = db.session.scalars(select(Event).where(Event.id == event.id)).one()
        assert not server_transaction_open()
        with another_worker(app):  # takes the last seat meanwhile
            sign_up(db.session.get(Event, event.id))
        with write_transaction():
            (late,) = registrations.sign_up(details(), [reread], "test").registrations
        assert late.status is RegistrationStatus.WAITLISTED
    with another_worker(app):
        assert count(Registration, Registration.status == RegistrationStatus.CONFIRMED) == 1


@pytest.mark.parametrize(
    "write",
    [
        lambda event: db.session.execute(
            text("UPDATE event SET capacity = 99 WHERE id = :id"), {"id": event.id}
        ),
        lambda event: db.session.connection().execute(
            update(Event).where(Event.id == event.id).values(capacity=99)
        ),
    ],
    ids=["text", "core"],
)
def test_a_requests_statement_that_writes_outside_a_use_case_is_refused(app, make_event, write):
    # Outside a transaction it would commit at once, past any rollback.
    event = make_event(capacity=5)
    with app.test_request_context():
        db.session.get(Event, event.id)
        with pytest.raises(UnownedWork):
            write(event)
        db.session.rollback()
    with another_worker(app):
        assert db.session.get(Event, event.id).capacity == 5


@pytest.mark.postgresql_only  # SQLite locks no rows: BEGIN IMMEDIATE is its lock
def test_a_requests_row_lock_outside_a_use_case_is_refused(app, make_event):
    # Outside a transaction the lock would end with the statement: it would protect nothing.
    event = make_event()
    with app.test_request_context(), pytest.raises(UnownedWork):
        db.session.scalars(select(Event).where(Event.id == event.id).with_for_update()).one()


def test_a_requests_rows_read_in_batches_need_no_ceremony(app, make_event):
    # PostgreSQL's server-side cursor lives in a transaction: the session opens one.
    events = [make_event(), make_event()]
    with app.test_request_context():
        rows = db.session.execute(select(Event.id).execution_options(yield_per=1))
        assert sorted(row.id for row in rows) == sorted(event.id for event in events)
        assert sorted(db.session.scalars(select(Event.id).execution_options(yield_per=1))) == (
            sorted(event.id for event in events)
        )
