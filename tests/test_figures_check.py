"""`flask figures check`: registrations of ended events that code from before they were history
changed after the end (a seat from the waiting list, a cancellation by erasure) are found, and
with --fix put back as they stood when the event ended, where that is certain."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from eventreg.extensions import db
from eventreg.models import AuditEntry, CancelReason, Registration, RegistrationStatus, utcnow
from eventreg.models.registration import new_person_key
from eventreg.services import audit, privacy, statistics
from tests.support.after_event import attend, end_event


def old_erasure(registration: Registration) -> None:
    """What erasure did before it kept ended events' registrations: cancel them all, now."""
    registration.cancel(CancelReason.ERASED)
    audit.record("cancelled", registration=registration)
    audit.record("erased", registration=registration)
    registration.registrant.anonymise(new_person_key())
    db.session.commit()


def old_promotion(registration: Registration) -> None:
    """What a freed seat did before an ended event's waiting list stayed as it was."""
    registration.confirm()
    audit.record("promoted", registration=registration, status="confirmed")
    db.session.commit()


def at(registration: Registration, moment: datetime) -> None:
    """Move what happened to the registration (its times, its history) to ``moment``."""
    for column in ("confirmed_at", "cancelled_at"):
        if getattr(registration, column) is not None:
            setattr(registration, column, moment)
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.registration_id == registration.id)
        .values(created_at=moment)
    )
    db.session.commit()


def registration_of(registrant) -> Registration:
    return registrant.registrations[0]


@pytest.fixture
def history(make_event, sign_up):
    """An ended event whose attendee an old erasure cancelled, giving their seat to the first
    in the queue; the same at another event, rescheduled since; and what is right."""
    mission = make_event(slug="mission", capacity=2)
    came = registration_of(sign_up(mission, country="IT"))
    no_show = registration_of(sign_up(mission, country="SE"))
    first_waiting = registration_of(sign_up(mission, country="DK"))
    second_waiting = registration_of(sign_up(mission, country="BG"))
    still_waiting = registration_of(sign_up(mission, country="ES"))
    third_waiting = registration_of(sign_up(mission, country="NO"))
    erased_in_time = registration_of(sign_up(make_event(slug="visit"), country="PT"))
    rescheduled = make_event(slug="rescheduled", capacity=1)
    moved_then = registration_of(sign_up(rescheduled, country="FI"))
    for event in (mission, rescheduled):
        end_event(event)
    signed_up = (came, no_show, first_waiting, second_waiting, still_waiting, third_waiting)
    for registration in (*signed_up, moved_then):
        at(registration, registration.event.starts_at - timedelta(days=10))  # signed up then
    privacy.erase(erased_in_time.registrant)  # cancelled while its event was still to come
    end_event(erased_in_time.event)
    at(erased_in_time, erased_in_time.event.ends_at - timedelta(days=2))
    attend(came)

    old_erasure(came)  # after the event: cancelled though they came
    old_promotion(first_waiting)  # ...and their seat went to the queue, after the end
    old_erasure(no_show)  # held a seat, did not come
    old_promotion(second_waiting)
    second_waiting.joined_online_at = utcnow()  # joined online: maybe let in, not certain
    old_erasure(still_waiting)  # on the waiting list when the event ended
    old_promotion(third_waiting)  # the seat still_waiting never had... then erased too
    old_erasure(third_waiting)
    old_erasure(moved_then)
    audit.record("event_updated", event=rescheduled, fields=["ends_at"])
    db.session.commit()
    return {
        "came": came,
        "first_waiting": first_waiting,
        "no_show": no_show,
        "second_waiting": second_waiting,
        "still_waiting": still_waiting,
        "third_waiting": third_waiting,
        "erased_in_time": erased_in_time,
        "moved_then": moved_then,
    }


def test_the_check_reports_and_changes_nothing(runner, history):
    output = runner.invoke(args=["figures", "check"]).output
    lines = {
        r.reference: line
        for r in history.values()
        for line in output.splitlines()
        if line.startswith(r.reference)
    }
    assert "cancelled by an erasure" in lines[history["came"].reference]
    assert lines[history["came"].reference].endswith("cancelled, should be confirmed")
    assert lines[history["first_waiting"].reference].endswith("confirmed, should be waitlisted")
    assert "given a seat from the waiting list" in lines[history["first_waiting"].reference]
    assert lines[history["no_show"].reference].endswith("cancelled, should be confirmed")
    assert lines[history["still_waiting"].reference].endswith("cancelled, should be waitlisted")
    assert lines[history["third_waiting"].reference].endswith("cancelled, should be waitlisted")
    assert "left as it is (attended" in lines[history["second_waiting"].reference]
    assert "left as it is (the event's dates were changed" in lines[history["moved_then"].reference]
    assert history["erased_in_time"].reference not in lines
    assert "5 registration(s) can be repaired: run again with --fix." in output
    assert "7 registration(s) found, 2 not certain." in output
    db.session.expire_all()
    assert history["came"].status is RegistrationStatus.CANCELLED
    assert not db.session.scalar(select(AuditEntry).where(AuditEntry.action == "history_repaired"))


def test_fix_puts_back_what_is_certain_with_an_audit_entry(
    runner, client, auth, make_user, history
):
    before = statistics.programme_statistics()
    assert (before.totals.confirmed, before.totals.cancelled) == (2, 6)
    result = runner.invoke(args=["figures", "check", "--fix"])
    assert "Repaired 5 registration(s)." in result.output
    db.session.expire_all()
    statuses = {name: registration.status.value for name, registration in history.items()}
    assert statuses == {
        "came": "confirmed",
        "first_waiting": "waitlisted",
        "no_show": "confirmed",
        "second_waiting": "confirmed",  # not certain: left
        "still_waiting": "waitlisted",
        "third_waiting": "waitlisted",
        "erased_in_time": "cancelled",
        "moved_then": "cancelled",  # not certain: left
    }
    came = history["came"]
    assert (came.cancelled_at, came.cancel_reason) == (None, None) and came.confirmed_at
    assert history["first_waiting"].confirmed_at is None
    assert history["came"].registrant.is_purged  # still erased: only the status comes back
    after = statistics.programme_statistics()
    assert (after.totals.confirmed, after.totals.cancelled) == (3, 2)

    entries = db.session.execute(
        select(AuditEntry.registration_id, AuditEntry.details).where(
            AuditEntry.action == "history_repaired"
        )
    ).all()
    assert sorted(entries, key=lambda e: e[0]) == sorted(
        [
            (came.id, {"status": "confirmed", "erased_after_end": True}),
            (history["first_waiting"].id, {"status": "waitlisted", "promoted_after_end": True}),
            (history["no_show"].id, {"status": "confirmed", "erased_after_end": True}),
            (history["still_waiting"].id, {"status": "waitlisted", "erased_after_end": True}),
            (history["third_waiting"].id, {"status": "waitlisted", "erased_after_end": True}),
        ],
        key=lambda e: e[0],
    )
    make_user("organiser")
    auth.login("organiser@example.org")
    page = client.get(f"/admin/registrations/{came.reference}").text
    assert "Put back as it was when the event ended" in page
    assert "an erasure had cancelled it after the event ended" in page

    again = runner.invoke(args=["figures", "check", "--fix"]).output
    assert "Repaired 0 registration(s)." in again
    assert "2 registration(s) found, 2 not certain." in again


def test_a_seat_an_organiser_gave_by_hand_after_the_end_is_left_as_it_is(
    runner, make_event, make_user, sign_up
):
    """Before 0021 an organiser's Promote button worked after the end too (adding a seat): a
    decision with their name on it, not a cancellation's side effect, so --fix leaves it."""
    organiser = make_user("organiser")
    mission = make_event(capacity=1)
    sign_up(mission)
    waiting = registration_of(sign_up(mission))
    end_event(mission)
    mission.capacity += 1  # what registrations.promote did then, after the end
    audit.record("capacity_raised", event=mission, actor=organiser, capacity=mission.capacity)
    waiting.confirm()
    audit.record("promoted", registration=waiting, actor=organiser, status="confirmed")
    db.session.commit()

    output = runner.invoke(args=["figures", "check", "--fix"]).output
    assert "left as it is (given a seat by an organiser" in output
    assert "Repaired 0 registration(s)." in output
    db.session.expire_all()
    assert waiting.status is RegistrationStatus.CONFIRMED
