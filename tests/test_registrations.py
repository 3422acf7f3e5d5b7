"""The registration rules: seats, the waiting list, promotion, cancelling, corrections."""

import pytest

from eventreg.extensions import db
from eventreg.models import RegistrationStatus
from eventreg.services import registrations
from tests.support.factories import details


def status_of(registrant):
    db.session.refresh(registrant.registrations[0])
    return registrant.registrations[0].status


def test_seats_then_waiting_list_in_order_of_arrival(make_event, sign_up):
    event = make_event(capacity=2)
    people = [sign_up(event) for _ in range(4)]
    assert [status_of(p) for p in people] == [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.WAITLISTED,
    ]
    assert registrations.waitlist_position(people[2].registrations[0]) == 1
    assert registrations.waitlist_position(people[3].registrations[0]) == 2


def test_unlimited_event_never_has_a_waiting_list(make_event, sign_up):
    event = make_event(capacity=None)
    assert all(status_of(sign_up(event)) is RegistrationStatus.CONFIRMED for _ in range(5))


def test_cancelling_a_seat_promotes_the_first_in_the_queue(make_event, sign_up):
    event = make_event(capacity=1)
    holder, first, second = sign_up(event), sign_up(event), sign_up(event)
    promoted = registrations.cancel(holder.registrations[0])
    assert promoted.id == first.registrations[0].id
    assert status_of(holder) is RegistrationStatus.CANCELLED
    assert status_of(first) is RegistrationStatus.CONFIRMED
    assert status_of(second) is RegistrationStatus.WAITLISTED
    assert registrations.waitlist_position(second.registrations[0]) == 1


def test_cancelling_a_waiting_place_promotes_nobody(make_event, sign_up):
    event = make_event(capacity=1)
    holder, waiting, behind = sign_up(event), sign_up(event), sign_up(event)
    assert registrations.cancel(waiting.registrations[0]) is None
    assert status_of(holder) is RegistrationStatus.CONFIRMED
    assert status_of(behind) is RegistrationStatus.WAITLISTED


def test_cancelling_twice_changes_nothing(make_event, sign_up):
    event = make_event(capacity=1)
    holder, waiting = sign_up(event), sign_up(event)
    registrations.cancel(holder.registrations[0])
    assert registrations.cancel(holder.registrations[0]) is None
    assert status_of(waiting) is RegistrationStatus.CONFIRMED


def test_coming_back_after_cancelling_joins_the_back_of_the_queue(make_event, sign_up):
    event = make_event(capacity=1)
    holder, waiting = sign_up(event), sign_up(event)
    old_ticket = holder.registrations[0].ticket_secret
    registrations.cancel(holder.registrations[0])
    (again,) = registrations.add_events(holder, [event])
    assert again.status is RegistrationStatus.WAITLISTED
    assert again.ticket_secret != old_ticket
    assert status_of(waiting) is RegistrationStatus.CONFIRMED


def test_the_same_email_cannot_register_twice_for_an_event(make_event, sign_up):
    event = make_event()
    sign_up(event, email="ana@example.org")
    with pytest.raises(registrations.AlreadyRegistered):
        sign_up(event, email="ana@example.org")


def test_correcting_the_email_to_one_already_registered_is_refused(make_event, sign_up):
    event = make_event()
    sign_up(event, email="ana@example.org")
    bea = sign_up(event, email="bea@example.org")
    with pytest.raises(registrations.AlreadyRegistered):
        registrations.update_details(bea, details(email="ana@example.org"))
    db.session.refresh(bea)
    assert bea.email == "bea@example.org"


def test_needs_are_kept_only_for_in_person_events(make_event, sign_up):
    webinar = make_event(mode="online", city=None, venue=None)
    mission = make_event()
    online_only = sign_up(webinar, needs="wheelchair access")
    in_person = sign_up(mission, needs="vegetarian")
    assert online_only.needs is None
    assert in_person.needs == "vegetarian"


def test_fill_from_waitlist_after_capacity_grows(make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = [sign_up(event) for _ in range(3)]
    event.capacity = 3
    db.session.commit()
    promoted = registrations.fill_from_waitlist(event)
    assert [r.id for r in promoted] == [w.registrations[0].id for w in waiting[:2]]
    assert status_of(waiting[2]) is RegistrationStatus.WAITLISTED
