"""Topics of expertise: the shipped list (translated) and the ones organisers add."""

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..database import write_transaction
from ..extensions import db
from ..models import Topic

SHIPPED = {
    "social-services": _l("Procurement of social services"),
    "socio-ecological": _l("Socio-ecological procedures"),
    "employment-clauses": _l("Employment clauses"),
    "reserved-contracts": _l("Reserved contracts"),
    "social-enterprises": _l("Social enterprises"),
    "market-engagement": _l("Market engagement and dialogue"),
}


class TopicExists(Exception):
    """A topic with that name is already on the list."""


def label(topic: Topic) -> str:
    """The topic's name in the current language (organisers' own topics as they wrote them)."""
    return str(SHIPPED.get(topic.key, topic.label))


def label_of(stored: str) -> str:
    """A topic as a report's copy of a profile keeps it (a shipped one's key), as shown."""
    return str(SHIPPED.get(stored, stored))


def all_topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).order_by(Topic.id)))


def choices() -> list[tuple[int, str]]:
    return [(topic.id, label(topic)) for topic in all_topics()]


def add(name: str) -> Topic:
    """Add a topic to the list members choose from."""
    key = re.sub(r"[^\w]+", "-", name.strip().casefold()).strip("-")[:80] or "topic"
    with write_transaction():
        clash = db.session.scalar(
            select(Topic).where((Topic.key == key) | (func.lower(Topic.label) == name.lower()))
        )
        if clash is not None:
            raise TopicExists(name)
        topic = Topic(key=key, label=name.strip())
        db.session.add(topic)
    return topic
