"""What a member does not shed by leaving the network and joining again: the reports other
members made about them, other members' blocks of their messages, and organisers having
hidden them.

When a member leaves (or an organiser removes them, or their data is erased), these stay
under a keyed digest of their address, ``former_key``: the address itself is not kept, and
the digest cannot be matched to an address without SECRET_KEY. Confirming the address again,
as a new member, brings them back. They are deleted RETENTION_DAYS after the member left.
"""

import hashlib
import hmac
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, or_, select, update

from ..addresses import canonical
from ..database import locking
from ..extensions import db
from ..models import AbuseReport, ContactBlock, FormerMember, Member, MemberStatus


def former_key(address: str) -> str:
    """The digest the network keeps of a former member's address."""
    secret = current_app.config["SECRET_KEY"].encode()
    text = f"former-member\0{canonical(address)}".encode()
    return hmac.new(secret, text, hashlib.sha256).hexdigest()


def lock_rows_of(member: Member) -> None:
    """Lock the reports and blocks the member made or is the subject of, reports first, each
    in id order, inside the caller's transaction: leaving changes them all."""
    for model, made, about in (
        (AbuseReport, AbuseReport.reporter_id, AbuseReport.reported_id),
        (ContactBlock, ContactBlock.member_id, ContactBlock.blocked_id),
    ):
        db.session.execute(
            locking(
                select(model.id)
                .where(or_(made == member.id, about == member.id))
                .order_by(model.id)
            )
        ).all()


def keep(member: Member) -> None:
    """Keep what holds against the member before their row is deleted, inside the caller's
    transaction, with the member locked. Reports about them then stay for the organisers."""
    key = former_key(member.email)
    # The member's id goes in the same statement, not by the foreign key's ON DELETE SET NULL
    # later: a row changed twice in one transaction has its other member checked, FOR KEY
    # SHARE on PostgreSQL, which would wait for that member leaving at the same moment.
    reports = db.session.execute(
        update(AbuseReport)
        .where(AbuseReport.reported_id == member.id)
        .values(former_key=key, reported_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    blocks = db.session.execute(
        update(ContactBlock)
        .where(ContactBlock.blocked_id == member.id)
        .values(former_key=key, blocked_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if reports or blocks or member.is_hidden:
        _record(key, hidden=member.is_hidden)


def hide(key: str) -> None:
    """An organiser hides a member who has left: should they join again, they are hidden.
    Inside the caller's transaction, with the reports about them locked."""
    _record(key, hidden=True)


def restore(member: Member) -> None:
    """A new member confirmed their address: what was kept against it holds again. Inside the
    caller's transaction, with the member locked."""
    key = former_key(member.email)
    # Reports first: an organiser deciding on one about the former member holds them locked,
    # and then may hide the address (read below, once that decision is in).
    db.session.execute(
        update(AbuseReport)
        .where(AbuseReport.former_key == key)
        .values(reported_id=member.id, former_key=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ContactBlock)
        .where(ContactBlock.former_key == key)
        .values(blocked_id=member.id, former_key=None)
        .execution_options(synchronize_session=False)
    )
    found = db.session.get(FormerMember, key, populate_existing=True)
    if found is None:
        return
    if found.hidden:
        member.status = MemberStatus.HIDDEN
    db.session.delete(found)


def forget_left_before(cutoff: datetime) -> int:
    """Delete what is kept of members who left before ``cutoff``, inside the caller's
    transaction; how many former members."""
    gone = select(FormerMember.former_key).where(FormerMember.left_at < cutoff)
    db.session.execute(delete(AbuseReport).where(AbuseReport.former_key.in_(gone)))
    db.session.execute(delete(ContactBlock).where(ContactBlock.former_key.in_(gone)))
    return db.session.execute(delete(FormerMember).where(FormerMember.left_at < cutoff)).rowcount


def _record(key: str, *, hidden: bool) -> None:
    found = db.session.get(FormerMember, key)
    if found is None:
        db.session.add(FormerMember(former_key=key, hidden=hidden))
        return
    found.hidden = found.hidden or hidden
