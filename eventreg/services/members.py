"""Membership of the network of practice: joining with double opt-in, signing in, stopping the
network's e-mails, leaving."""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..addresses import canonical
from ..database import locking, write_transaction
from ..extensions import db
from ..models import (
    Member,
    MemberStatus,
    MessageKind,
    OutboxMessage,
    Registrant,
    TargetGroup,
    Topic,
    utcnow,
)
from ..models.network import PROFILE_FIELDS
from ..models.registration import new_secret
from . import abuse_reports, former_members, registrations
from .mail_transport import remove_saved_copies
from .member_contact import blocked_members
from .network_links import CONFIRM_PURPOSE, SIGN_IN_PURPOSE, UNSUBSCRIBE_PURPOSE
from .network_mail import enqueue_for_member
from .outbox import queued_lately, replace_queued
from .signed_links import unsign


class AlreadyMember(Exception):
    """That e-mail address already belongs to a member."""


@dataclass
class Profile:
    """What a member says about themselves, and which fields everyone may see."""

    name: str
    organisation: str
    country: str
    target_group: TargetGroup
    language: str
    role: str | None = None
    bio: str | None = None
    languages: list[str] = field(default_factory=list)
    topic_ids: list[int] = field(default_factory=list)
    public_fields: list[str] = field(default_factory=list)
    accepts_contact: bool = True


def join(email: str, profile: Profile, next_path: str | None = None) -> Member:
    """Create a pending member and send the confirmation e-mail; nobody sees the profile yet.

    ``next_path``: a path on this site (``urls.local_path``) the confirmation link leads to."""
    email = canonical(email)
    with write_transaction():
        existing = _member_by_email(email, lock=True)
        if existing is not None and not existing.is_pending:
            raise AlreadyMember(email)
        rewritten = existing is not None and _published(existing) != _as_written(profile)
        if existing is not None and not _may_send_confirmation(existing, rewritten=rewritten):
            # Links went lately: the profile stays as the newest of them shows it.
            return existing
        member = existing or Member(email=email)
        _apply(member, profile)
        if rewritten:
            # Anyone may type an address into the form: a link sent for the profile as it was
            # must not confirm what someone else wrote since. A new link goes with a new e-mail;
            # one not sent yet would carry the new key under the old greeting, so it goes too.
            member.key = new_secret()
            replace_queued(MessageKind.NETWORK_CONFIRM, OutboxMessage.member_id == member.id)
        member.consent_at = utcnow()
        db.session.add(member)
        db.session.flush()
        where = {"next": next_path} if next_path else {}
        enqueue_for_member(MessageKind.NETWORK_CONFIRM, member, **where)
    return member


def _published(member: Member) -> tuple:
    """What confirming makes visible, and to whom: the profile as written."""
    topics = sorted(topic.id for topic in member.topics)
    return (*(getattr(member, name) for name in _WRITTEN_FIELDS), tuple(topics))


def _as_written(profile: Profile) -> tuple:
    """``_published`` of a member once ``_apply`` has written this profile."""
    values = {
        **{name: getattr(profile, name) for name in _WRITTEN_FIELDS},
        "languages": list(profile.languages),
        "public_fields": [name for name in PROFILE_FIELDS if name in profile.public_fields],
    }
    return (*(values[name] for name in _WRITTEN_FIELDS), tuple(sorted(set(profile.topic_ids))))


_WRITTEN_FIELDS = (
    "name",
    "organisation",
    "country",
    "target_group",
    "language",
    "role",
    "bio",
    "languages",
    "public_fields",
    "accepts_contact",
)


def _may_send_confirmation(member: Member, *, rewritten: bool) -> bool:
    """Joining again unchanged within RESEND_LINK_PAUSE_MINUTES sends nothing (no form may
    flood a mailbox); a profile written anew is sent a link for it, up to
    CONFIRMATIONS_PER_PAUSE within the pause, after which it is not rewritten: someone
    rewriting another's pending profile again and again can delay that person's confirmation,
    never publish their text."""
    limit = current_app.config["CONFIRMATIONS_PER_PAUSE"] if rewritten else 1
    return not queued_lately(MessageKind.NETWORK_CONFIRM, at_least=limit, member_id=member.id)


def join_from_registrant(registrant: Registrant) -> Member | None:
    """Someone ticked the network box when signing up: ask them to confirm by e-mail."""
    profile = Profile(
        name=registrant.full_name,
        organisation=registrant.organisation,
        country=registrant.country,
        target_group=registrant.target_group,
        language=registrant.language,
        role=registrant.job_title,
        languages=[registrant.language],
    )
    try:
        return join(registrant.email, profile)
    except AlreadyMember:
        return None


def sign_up_and_join(
    details: registrations.PersonDetails, slugs: Sequence[str], privacy_notice_version: str
) -> Registrant:
    """Sign up for events and, a separate consent, ask to join the network: one use case."""
    with write_transaction():
        registrant = registrations.sign_up_by_slugs(details, slugs, privacy_notice_version)
        join_from_registrant(registrant)
    return registrant


def confirm(token: str) -> Member | None:
    """Confirm a pending member by the link in their e-mail: the member, only on its first use.

    None for a wrong link, and for one used already: the link stays in a mailbox (and in the
    outbox), so it must not sign anyone in once the address is confirmed."""
    key = unsign(token, CONFIRM_PURPOSE)
    if key is None:
        return None
    with write_transaction():
        member = _locked_member_by_key(key)
        if member is None or not member.is_pending:
            return None
        member.status = MemberStatus.ACTIVE
        member.confirmed_at = utcnow()
        former_members.restore(member)  # hidden again, should organisers have hidden them
    return member


def pending_by_confirm_link(token: str) -> Member | None:
    """The unconfirmed member a confirmation link is for, to show the profile it publishes;
    None for a wrong, used or replaced link."""
    member = member_by_key(unsign(token, CONFIRM_PURPOSE))
    return member if member is not None and member.is_pending else None


def request_sign_in(email: str, next_path: str | None = None) -> None:
    """E-mail a one-time sign-in link to a confirmed member; say nothing about others.

    ``next_path``: a path on this site (``urls.local_path``) the link leads to once used."""
    with write_transaction():
        member = _member_by_email(canonical(email), lock=True)
        if member is None or member.is_pending:
            return
        if _unused_link_lately(member):
            return  # the link sent moments ago still works: no flood of a mailbox
        nonce = secrets.token_urlsafe(16)
        member.sign_in_nonce = _digest(nonce)
        minutes = current_app.config["NETWORK_SIGN_IN_MINUTES"]
        member.sign_in_expires_at = utcnow() + timedelta(minutes=minutes)
        where = {"next": next_path} if next_path else {}
        enqueue_for_member(MessageKind.NETWORK_SIGN_IN, member, nonce=nonce, **where)


def sign_in(token: str) -> Member | None:
    """Use a sign-in link once, before it expires; the member it belongs to, or None."""
    value = unsign(token, SIGN_IN_PURPOSE)
    if value is None or ":" not in value:
        return None
    key, nonce = value.split(":", 1)
    with write_transaction():
        member = _locked_member_by_key(key)
        if (
            member is None
            or member.sign_in_nonce != _digest(nonce)
            or member.sign_in_expires_at is None
            or member.sign_in_expires_at <= utcnow()
        ):
            return None
        member.sign_in_nonce = member.sign_in_expires_at = None
    return member


def update_profile(member: Member, profile: Profile) -> None:
    """Save a member's own changes to their profile."""
    with write_transaction():
        _apply(member, profile)


def leave(member: Member) -> None:
    """Delete the member's profile and all that hangs on it (asked signed in, box ticked)."""
    with write_transaction():
        # Their row before the reports about them, as an organiser deciding on one locks them.
        member = db.session.scalar(locking(select(Member).where(Member.id == member.id)))
        if member is None:
            return
        depart(member)


def forget(email: str) -> None:
    """Delete the profile of this address, inside the caller's transaction (data erasure)."""
    member = _member_by_email(canonical(email), lock=True)
    if member is not None:
        depart(member)


def depart(member: Member) -> None:
    """Delete a member's profile, locked, inside the caller's transaction: their name and note
    go from the reports they made; what holds against them is kept (``former_members``)."""
    # Two members who reported or blocked each other, leaving at once, each change rows both
    # hold: taken in one order (reports, then blocks, each by id), neither waits in a circle.
    former_members.lock_rows_of(member)
    abuse_reports.forget_reporter(member)
    former_members.keep(member)
    _delete(member)


def _delete(member: Member) -> None:
    """Delete the member's row, their queued and sent network e-mails with it (the database
    cascades) and the saved copies of those e-mails, which hold their name and address.

    The copies go first, as ``privacy._anonymise``'s do: should the transaction fail after
    that, the member is still there to leave again and only copies are lost; removed after
    the commit, a crash in between would keep their personal data in files nothing lists."""
    remove_saved_copies(
        list(
            db.session.scalars(
                select(OutboxMessage.message_id).where(OutboxMessage.member_id == member.id)
            )
        )
    )
    db.session.delete(member)


def drop_unconfirmed(now: datetime | None = None) -> int:
    """Delete joins not confirmed within NETWORK_UNCONFIRMED_DAYS (inside the caller's use case)."""
    days = current_app.config["NETWORK_UNCONFIRMED_DAYS"]
    cutoff = (now or utcnow()) - timedelta(days=days)
    stale = db.session.scalars(
        locking(
            # By the last join (its link is that recent), not the first.
            select(Member).where(Member.status == MemberStatus.PENDING, Member.consent_at < cutoff)
        )
    ).all()
    for member in stale:
        _delete(member)
    return len(stale)


def set_receives_mail(member: Member, receives: bool) -> None:
    """Stop the network's e-mails to the member (announcements, members' messages) or resume."""
    with write_transaction():
        locked = _locked_member_by_key(member.key)
        if locked is not None:
            locked.receives_mail = receives


def stop_mail_by_token(token: str) -> bool:
    """Stop the e-mails by the link in a network e-mail (or its List-Unsubscribe header); False
    for a forged link. All it does: the link reaches whoever the e-mail is forwarded to."""
    key = unsign(token, UNSUBSCRIBE_PURPOSE)
    if key is None:
        return False
    member = member_by_key(key)
    if member is not None:  # left already: nothing is sent to them anyway
        set_receives_mail(member, False)
    return True


def member_by_key(key: str | None) -> Member | None:
    """The member whose secret key this is (what the links in their e-mails carry)."""
    if not key:
        return None
    return db.session.scalar(select(Member).where(Member.key == key))


def open_session(member: Member) -> str:
    """What a browser's session holds once the member signed in: their id and a nonce that
    all their browsers share until they sign out (``end_sessions``)."""
    if member.session_nonce is None:
        with write_transaction():
            locked = _locked_member_by_key(member.key)
            if locked.session_nonce is None:
                locked.session_nonce = secrets.token_urlsafe(16)
    return f"{member.id}:{member.session_nonce}"


def member_by_session(value: str | None) -> Member | None:
    """The member a session's value (from ``open_session``) still signs in, or None."""
    member_id, _, nonce = (value or "").partition(":")
    if not member_id.isdigit() or not nonce:
        return None
    member = db.session.get(Member, int(member_id))
    if member is None or member.session_nonce is None:
        return None
    return member if hmac.compare_digest(member.session_nonce, nonce) else None


def end_sessions(member: Member) -> None:
    """Sign the member out of every browser (a copied session cookie stops working too)."""
    with write_transaction():
        locked = _locked_member_by_key(member.key)
        if locked is not None:
            locked.session_nonce = None


def export_profile(email: str) -> dict | None:
    """The member's profile for the personal data export, or None when not a member."""
    member = _member_by_email(canonical(email))
    if member is None:
        return None
    return {
        "email": member.email,
        "status": member.status.value,
        **{name: getattr(member, name) for name in ("name", "organisation", "country", "role")},
        "target_group": member.target_group.value,
        "languages": list(member.languages),
        "topics": [topic.label for topic in member.topics],
        "bio": member.bio,
        "public_fields": list(member.public_fields),
        "accepts_contact": member.accepts_contact,
        "receives_network_emails": member.receives_mail,
        "messages_stopped_from": [other.name for other in blocked_members(member)],
        "reports_made": abuse_reports.reports_made(member),
        "joined_at": member.consent_at.isoformat(),
        "confirmed_at": member.confirmed_at.isoformat() if member.confirmed_at else None,
    }


def _apply(member: Member, profile: Profile) -> None:
    member.name = profile.name
    member.organisation = profile.organisation
    member.country = profile.country
    member.target_group = profile.target_group
    member.language = profile.language
    member.role = profile.role
    member.bio = profile.bio
    member.languages = list(profile.languages)
    member.public_fields = [name for name in PROFILE_FIELDS if name in profile.public_fields]
    member.accepts_contact = profile.accepts_contact
    member.topics = (
        list(db.session.scalars(select(Topic).where(Topic.id.in_(profile.topic_ids))))
        if profile.topic_ids
        else []
    )


def _member_by_email(email: str, lock: bool = False) -> Member | None:
    query = select(Member).where(Member.email == email)
    if lock:
        query = locking(query)
    return db.session.scalar(query)


def _locked_member_by_key(key: str) -> Member | None:
    return db.session.scalar(locking(select(Member).where(Member.key == key)))


def _unused_link_lately(member: Member) -> bool:
    """A sign-in link sent within RESEND_LINK_PAUSE_MINUTES that still works: asking again
    sends nothing until the pause ends. A used or expired one is replaced at once."""
    usable = member.sign_in_nonce is not None and member.sign_in_expires_at > utcnow()
    return usable and queued_lately(MessageKind.NETWORK_SIGN_IN, member_id=member.id)


def _digest(nonce: str) -> str:
    """Only a hash of the sign-in nonce is stored: a database copy opens no session."""
    return hashlib.sha256(nonce.encode()).hexdigest()
