"""Migrations keep the data they do not mean to change, up and down, on both databases.

SQLite alters a table by building a new one and dropping the old: with foreign keys on (as
the app turns them on for every connection), dropping the old table deleted every row that
pointed at it through ON DELETE CASCADE, or stopped the migration half-way.
"""

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from eventreg.database import write_transaction
from eventreg.extensions import db
from eventreg.models import (
    Certificate,
    Event,
    FeedbackResponse,
    Member,
    MemberStatus,
    ProcurementType,
    TargetGroup,
)
from eventreg.services import (
    accounts,
    checkin,
    member_contact,
    members,
    practices,
    registrations,
    topics,
)
from eventreg.services.programme import load_programme
from tests.support.database import migrated_from
from tests.support.factories import details

BEFORE = "0016_folded_names"


def _seed() -> None:
    """A little of everything that points at a registration or a member."""
    load_programme()
    bergamo, webinar = (
        db.session.scalar(select(Event).where(Event.slug == slug))
        for slug in ("mission-bergamo", "webinar-eu-policy-trends")
    )
    with write_transaction():
        staff = accounts.create_user("door@example.org", "organiser", "a long passphrase")
    people = [
        registrations.sign_up(details(email=f"p{n}@example.org"), [bergamo, webinar], "v1")
        for n in range(3)
    ]
    first = people[0].registrations[0]
    checkin.check_in(first, staff=staff, any_day=True)
    registrations.cancel(people[2].registrations[1])
    with write_transaction():
        db.session.add(Certificate(registration=first))
        db.session.add(FeedbackResponse(registration=first, answers={}))
    topic = topics.add("Migration test topic")
    profile = members.Profile(
        name="Anna Rossi",
        organisation="Comune di Bergamo",
        country="IT",
        target_group=TargetGroup.LOCAL_REGIONAL_AUTHORITY,
        language="it",
        topic_ids=[topic.id],
        public_fields=["organisation"],
    )
    anna = members.join("anna@example.org", profile)
    bo = members.join("bo@example.dk", profile)
    with write_transaction():
        anna.status = bo.status = MemberStatus.ACTIVE
    member_contact.send(anna, bo, "Could we talk about your clauses?")
    member_contact.block(bo, anna.id)
    text_in = practices.TextInput(language="en", title="Clauses", summary="Jobs.")
    practices.propose(
        practices.PracticeInput(
            city="Bergamo", country="IT", procurement_type=ProcurementType.SERVICES, texts=[text_in]
        ),
        anna,
    )
    db.session.commit()


def _counts(tables: list[str]) -> dict[str, int]:
    return {
        table: db.session.scalar(select(func.count()).select_from(text(table))) for table in tables
    }


def test_going_down_to_0016_and_up_again_keeps_every_row(backend, tmp_path):
    with migrated_from(BEFORE, backend, tmp_path) as upgrade_rest:
        old_tables = sorted(inspect(db.engine).get_table_names())
        upgrade_rest()
        _seed()
        before = _counts(old_tables)
        proposer = db.session.scalar(text("SELECT proposed_by_id FROM practice"))
        db.session.remove()

        downgrade(revision=BEFORE)
        assert _counts(old_tables) == before
        db.session.remove()
        upgrade()
        assert _counts(old_tables) == before
        assert db.session.scalar(text("SELECT proposed_by_id FROM practice")) == proposer
        assert db.session.scalar(select(func.count()).select_from(Member)) == 2
    assert before["member_topic"] == 2 and before["contact_block"] == 1
    assert before["certificate"] == 1 and before["feedback_response"] == 1
