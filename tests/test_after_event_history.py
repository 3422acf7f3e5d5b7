"""After an event has ended its registrations are history: no seat goes to its waiting list,
organisers cannot cancel or move them, an erasure keeps them (anonymous) in the figures; and
erasure reaches every sign-up of the address, the questionnaire link and the certificates."""

import csv
import importlib.util
import io
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import func, select, update

from eventreg.extensions import db
from eventreg.models import (
    AuditEntry,
    CancelReason,
    Certificate,
    FeedbackResponse,
    OutboxMessage,
    Registrant,
    Registration,
    RegistrationStatus,
    utcnow,
)
from eventreg.services import (
    certificates,
    events,
    feedback,
    privacy,
    registrations,
    statistics,
)
from eventreg.services.manage_links import manage_token
from tests.support.after_event import attend, end_event


@pytest.fixture
def organiser(client, auth, make_user):
    make_user("organiser")
    auth.login("organiser@example.org")
    return client


@pytest.fixture
def full_then_ended(make_event, sign_up):
    """A one-seat event that ended yesterday: the seat holder came, one person still waits."""
    event = make_event(capacity=1)
    came = sign_up(event, first_name="Came")
    waiting = sign_up(event, first_name="Waited")
    attend(came.registrations[0])
    end_event(event)
    return event, came.registrations[0], waiting.registrations[0]


def messages_to(registration) -> list[str]:
    return db.session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.registration_id == registration.id)
    ).all()


def test_cancelling_after_the_event_is_refused_and_the_queue_stays(full_then_ended):
    _event, came, waiting = full_then_ended
    told_before = messages_to(waiting)

    with pytest.raises(registrations.EventHasEnded):
        registrations.cancel(came)

    db.session.expire_all()
    assert came.is_confirmed and came.has_attended
    assert waiting.is_waitlisted
    assert messages_to(waiting) == told_before  # no "Your place is confirmed" a month later


def test_an_organiser_cannot_cancel_an_ended_events_registration(organiser, full_then_ended):
    _event, came, waiting = full_then_ended

    page = organiser.post(
        f"/admin/registrations/{came.reference}/cancel",
        data={"confirm": "y"},
        follow_redirects=True,
    )

    assert "The event has ended" in page.text
    db.session.expire_all()
    assert came.is_confirmed and waiting.is_waitlisted
    # the page offers neither cancelling, moving nor giving a seat
    for registration in (came, waiting):
        shown = organiser.get(f"/admin/registrations/{registration.reference}").text
        assert "kept as it was" in shown
        for action in ("/cancel", "/move", "/promote"):
            assert f"/admin/registrations/{registration.reference}{action}" not in shown


def test_no_seat_is_given_after_the_event_by_hand_or_by_more_seats(
    organiser, make_user, full_then_ended
):
    event, _came, waiting = full_then_ended

    page = organiser.post(
        f"/admin/registrations/{waiting.reference}/promote",
        data={"ahead_of_queue": "y"},
        follow_redirects=True,
    )
    assert "The event has ended" in page.text
    admin = make_user("admin", "admin@example.org")
    events.update_event(event, {"capacity": 5}, actor=admin)

    db.session.expire_all()
    assert waiting.is_waitlisted
    assert event.capacity == 5


def test_moves_from_or_to_an_ended_event_are_refused(
    organiser, make_user, make_event, sign_up, full_then_ended
):
    ended, came, _waiting = full_then_ended
    coming = make_event(slug="coming-webinar")
    other = sign_up(coming).registrations[0]

    page = organiser.post(
        f"/admin/registrations/{came.reference}/move",
        data={"target": coming.slug},
        follow_redirects=True,
    )
    assert "The event has ended" in page.text
    with pytest.raises(registrations.EventHasEnded) as refused:
        registrations.move(other, ended, actor=make_user("admin", "admin@example.org"))
    assert refused.value.slug == ended.slug

    db.session.expire_all()
    assert came.is_confirmed and came.event_id == ended.id
    assert other.is_confirmed and other.event_id == coming.id
    offered = organiser.get(f"/admin/registrations/{other.reference}").text
    assert f'value="{ended.slug}"' not in offered  # an ended event is no move target


def test_erasure_after_the_event_keeps_the_attendance_and_cancels_what_is_to_come(
    organiser, make_event, sign_up, full_then_ended
):
    ended, came, waiting = full_then_ended
    coming = make_event(capacity=1)
    registrations.add_events(came.registrant, [coming])
    queued = sign_up(coming).registrations[0]
    before = statistics.event_statistics(ended)

    organiser.post(f"/admin/registrations/{came.reference}/erase", data={"confirm": "y"})

    db.session.expire_all()
    person = came.registrant
    assert person.is_purged and person.email == ""
    assert came.status is RegistrationStatus.CONFIRMED and came.has_attended
    assert waiting.is_waitlisted and messages_to(waiting) == ["waitlisted"]
    upcoming = next(r for r in person.registrations if r.event_id == coming.id)
    assert upcoming.status is RegistrationStatus.CANCELLED
    assert upcoming.cancel_reason is CancelReason.ERASED
    assert queued.is_confirmed  # a coming event's seat still goes to its queue
    after = statistics.event_statistics(ended)
    assert after.totals == before.totals
    assert after.no_shows == before.no_shows
    assert after.people == before.people == 2


def test_attendance_counts_one_way_on_the_statistics(make_event, sign_up):
    """Someone checked in on day one who cancelled on day two still attended: the no-show
    figure's base counts their seat, so attended = expected - absent."""
    event = make_event(
        capacity=5,
        starts_at=utcnow() - timedelta(days=1),
        ends_at=utcnow() + timedelta(days=1),
        registration_opens_at=utcnow() - timedelta(days=20),
        registration_closes_at=utcnow() + timedelta(hours=1),
    )
    people = [sign_up(event).registrations[0] for _ in range(3)]
    attend(people[0])
    attend(people[1])
    registrations.cancel(people[1])
    end_event(event)

    stats = statistics.event_statistics(event)

    assert (stats.totals.confirmed, stats.totals.cancelled, stats.totals.attended) == (2, 1, 2)
    assert (stats.no_shows.expected, stats.no_shows.absent) == (3, 1)
    assert stats.no_shows.expected - stats.no_shows.absent == stats.totals.attended


def test_an_organisers_erasure_covers_every_sign_up_of_the_address(organiser, make_event, sign_up):
    first_event, second_event = make_event(), make_event(capacity=1)
    first = sign_up(first_event, email="same@example.org", first_name="Ana")
    second = sign_up(second_event, email="same@example.org", first_name="Ana Maria")
    waiting = sign_up(second_event).registrations[0]
    stranger = sign_up(first_event, email="other@example.org")
    reference = first.registrations[0].reference

    data = organiser.get(f"/admin/registrations/{reference}/data.json").get_json()
    assert {r["reference"] for r in data["registrations"]} == {
        first.registrations[0].reference,
        second.registrations[0].reference,
    }
    assert [other["person"]["first_name"] for other in data["other_sign_ups"]] == ["Ana Maria"]

    organiser.post(f"/admin/registrations/{reference}/erase", data={"confirm": "y"})

    db.session.expire_all()
    assert first.is_purged and second.is_purged and not stranger.is_purged
    assert second.registrations[0].cancel_reason is CancelReason.ERASED
    assert waiting.is_confirmed
    held = db.session.scalar(
        select(func.count()).select_from(Registrant).where(Registrant.email == "same@example.org")
    )
    assert held == 0


def test_a_manage_link_reaches_only_its_own_sign_up(client, make_event, sign_up):
    """Anyone can sign up with any address: the link proves nothing about the others."""
    mine = sign_up(make_event(), email="shared@example.org")
    theirs = sign_up(make_event(), email="shared@example.org", first_name="Someone else")
    path = f"/manage/{manage_token(mine)}"

    data = client.get(path + "/data.json").get_json()
    assert [r["reference"] for r in data["registrations"]] == [mine.registrations[0].reference]
    assert "other_sign_ups" not in data
    client.post(path + "/erase", data={"confirm": "y"})

    db.session.expire_all()
    assert mine.is_purged and not theirs.is_purged
    assert theirs.registrations[0].is_confirmed


def test_erased_people_are_counted_apart(organiser, make_event, sign_up):
    event = make_event()
    gone = [sign_up(event, network_opt_in=True) for _ in range(2)]
    sign_up(event, network_opt_in=True)
    for person in gone:
        privacy.erase(person)

    stats = statistics.event_statistics(event)

    assert stats.people == statistics.programme_statistics().people == 3
    assert stats.network_opt_ins == 1
    page = organiser.get(f"/admin/events/{event.slug}/statistics").text
    assert "of 3 people opted in" in page


def test_an_erased_persons_questionnaire_link_is_dead_and_their_answers_stay(
    organiser, make_event, sign_up
):
    event = make_event()
    person = sign_up(event)
    attend(person.registrations[0])
    end_event(event)
    feedback.send_requests(event)
    token = db.session.scalar(select(FeedbackResponse.token))
    overall, useful = feedback.questions(event)[:2]
    answers = {str(overall.id): "4", str(useful.id): "4"}
    assert organiser.post(f"/feedback/{token}", data=answers).status_code == 302

    privacy.erase(person)

    assert organiser.get(f"/feedback/{token}").status_code == 404
    assert organiser.post(f"/feedback/{token}", data=answers).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(FeedbackResponse.answers)) == {
        str(overall.id): 4,
        str(useful.id): 4,
    }
    results = organiser.get(f"/admin/events/{event.slug}/feedback").text
    assert "<strong>4.0</strong> / 5" in results


def test_no_certificate_for_an_erased_person(organiser, make_event, sign_up):
    event = make_event()
    erased, kept = sign_up(event), sign_up(event, last_name="Kept")
    for person in (erased, kept):
        attend(person.registrations[0])
    end_event(event)
    privacy.erase(erased)
    registration = erased.registrations[0]

    page = organiser.get(f"/admin/events/{event.slug}/certificates").text
    assert f"/admin/registrations/{registration.reference}/certificate.pdf" not in page
    assert f"/admin/registrations/{kept.registrations[0].reference}/certificate.pdf" in page
    assert (
        organiser.get(f"/admin/registrations/{registration.reference}/certificate.pdf").status_code
        == 404
    )
    with pytest.raises(certificates.NotAttended):
        certificates.issue(registration)
    assert certificates.send_for_event(event) == 1
    issued = db.session.scalars(select(Certificate.registration_id)).all()
    assert issued == [kept.registrations[0].id]


def test_each_cancellation_keeps_its_reason_in_exports_and_statistics(
    organiser, make_user, make_event, sign_up
):
    event, elsewhere, called_off = make_event(), make_event(), make_event()
    withdrawn = sign_up(event).registrations[0]
    moved = sign_up(event).registrations[0]
    erased = sign_up(event)
    sign_up(called_off, email=erased.email)
    sign_up(event)  # still confirmed
    admin = make_user("admin", "admin@example.org")
    registrations.cancel(withdrawn)
    registrations.move(moved, elsewhere, actor=admin)
    privacy.erase(erased)
    events.cancel_event(called_off, actor=admin)

    rows = list(
        csv.DictReader(io.StringIO(organiser.get("/admin/attendees.csv").data.decode("utf-8-sig")))
    )
    by_reference = {row["reference"]: row for row in rows}
    assert by_reference[withdrawn.reference]["cancel_reason"] == "withdrawn"
    assert by_reference[moved.reference]["cancel_reason"] == "moved"
    assert by_reference[erased.registrations[0].reference]["cancel_reason"] == "erased"
    called = [row for row in rows if row["event"] == called_off.slug]
    assert {row["cancel_reason"] for row in called} == {"event_cancelled"}
    assert {row["cancel_reason"] for row in rows if row["status"] != "cancelled"} == {""}

    stats = statistics.event_statistics(event)
    assert stats.totals.cancelled == 3
    assert stats.cancelled_by_reason == {
        CancelReason.WITHDRAWN: 1,
        CancelReason.MOVED: 1,
        CancelReason.ERASED: 1,
    }
    assert statistics.programme_statistics().cancelled_by_reason[CancelReason.EVENT_CANCELLED] == 1
    page = organiser.get(f"/admin/events/{event.slug}/statistics").text
    assert "Moved to another event: 1" in page and "Data erased on request: 1" in page
    shown = organiser.get(f"/admin/registrations/{moved.reference}").text
    assert "Cancelled (Moved to another event)" in shown


def test_the_reason_has_a_label_in_the_organisers_language(organiser, make_event, sign_up):
    event = make_event()
    registrations.cancel(sign_up(event).registrations[0])
    organiser.post("/language", data={"language": "it"})

    text = organiser.get(f"/admin/events/{event.slug}/attendees.csv?labels=yes").data
    header, row = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))

    assert header[-1] == "Motivo dell'annullamento"
    assert row[header.index("cancel_reason")] == "withdrawn"
    assert row[-1] == "Ritirata"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/attendees.csv",
        "/admin/events/{slug}/attendees.csv",
        "/admin/events/{slug}/attendees.csv?labels=yes",
        "/admin/events/{slug}/feedback.csv",
        "/network/admin/members.csv",
    ],
)
def test_every_csv_says_its_charset_once(organiser, make_event, url):
    event = make_event()

    response = organiser.get(url.format(slug=event.slug))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_the_upgrade_finds_why_earlier_registrations_were_cancelled(
    app, make_user, make_event, sign_up
):
    """Migration 0021 reads each cancelled registration's reason from its history: the reasons
    it finds are those the services record."""
    event, elsewhere, called_off = make_event(), make_event(), make_event()
    admin = make_user("admin", "admin@example.org")
    withdrawn, moved = sign_up(event).registrations[0], sign_up(event).registrations[0]
    erased, left_then_erased = sign_up(event), sign_up(event)
    sign_up(called_off)
    registrations.cancel(withdrawn)
    registrations.move(moved, elsewhere, actor=admin)
    privacy.erase(erased)
    events.cancel_event(called_off, actor=admin)
    registrations.cancel(left_then_erased.registrations[0])
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.registration_id == left_then_erased.registrations[0].id)
        .values(created_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    privacy.erase(left_then_erased)
    cancelled = select(Registration.id, Registration.cancel_reason).where(
        Registration.status == RegistrationStatus.CANCELLED
    )
    recorded = dict(db.session.execute(cancelled).all())
    reasons = ("withdrawn", "moved", "erased", "event_cancelled", "withdrawn")
    assert sorted(recorded.values()) == sorted(CancelReason(reason) for reason in reasons)
    db.session.execute(update(Registration).values(cancel_reason=None))  # as before 0021

    with Operations.context(MigrationContext.configure(db.session.connection())):
        _migration("0021_after_event")._fill_in_from_history()

    assert dict(db.session.execute(cancelled).all()) == recorded


def _migration(revision: str):
    """A migration's module, to run one of its steps on the test's database."""
    path = Path(__file__).parent.parent / "migrations" / "versions" / f"{revision}.py"
    spec = importlib.util.spec_from_file_location(revision, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
