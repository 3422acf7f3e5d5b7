"""Finding members: the members-only directory, the public page and its counts."""

from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..folding import fold
from ..models import Member, MemberStatus, TargetGroup, Topic, member_topic


@dataclass
class DirectoryFilter:
    """What a member searches the directory for; empty fields filter nothing."""

    words: str = ""
    country: str = ""
    topic_id: int | None = None
    target_group: TargetGroup | None = None
    language: str = ""


def search(criteria: DirectoryFilter, limit: int = 200) -> list[Member]:
    """Active members matching the words (name, organisation, role, text) and the filters."""
    query = select(Member).where(Member.status == MemberStatus.ACTIVE).order_by(Member.name)
    for word in criteria.words.split():  # folded both sides: "nunez" finds Núñez
        query = query.where(Member.search_text.contains(fold(word), autoescape=True))
    if criteria.country:
        query = query.where(Member.country == criteria.country)
    if criteria.target_group:
        query = query.where(Member.target_group == criteria.target_group)
    if criteria.topic_id:
        query = query.where(
            Member.id.in_(
                select(member_topic.c.member_id).where(member_topic.c.topic_id == criteria.topic_id)
            )
        )
    members = list(db.session.scalars(query.limit(limit if not criteria.language else None)))
    if criteria.language:  # a JSON list: filtered here, the same on both databases
        members = [m for m in members if criteria.language in m.languages][:limit]
    return members


def public_members() -> list[Member]:
    """Active members who made their name public, for the public page."""
    active = db.session.scalars(
        select(Member).where(Member.status == MemberStatus.ACTIVE).order_by(Member.name)
    )
    return [member for member in active if member.is_public]


def counts_by(column) -> list[tuple[str, int]]:
    """Active members counted by a column (country, target group), largest first."""
    rows = db.session.execute(
        select(column, func.count())
        .where(Member.status == MemberStatus.ACTIVE)
        .group_by(column)
        .order_by(func.count().desc(), column)
    )
    return [(value, count) for value, count in rows]


def counts_by_topic() -> list[tuple[Topic, int]]:
    """Active members counted by topic of expertise."""
    rows = db.session.execute(
        select(Topic, func.count(member_topic.c.member_id))
        .join(member_topic, member_topic.c.topic_id == Topic.id)
        .join(Member, Member.id == member_topic.c.member_id)
        .where(Member.status == MemberStatus.ACTIVE)
        .group_by(Topic.id)
        .order_by(func.count(member_topic.c.member_id).desc(), Topic.id)
    )
    return [(topic, count) for topic, count in rows]


def member_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Member).where(Member.status == MemberStatus.ACTIVE)
    )
