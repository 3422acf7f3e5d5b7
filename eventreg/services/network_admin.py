"""What organisers do with the network: moderation (members' reports too), announcements,
statistics, the export."""

import csv
import io
from collections import Counter
from dataclasses import dataclass

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, select

from ..choices import TARGET_GROUP_LABELS, country_name
from ..config import LANGUAGES
from ..database import locking, write_transaction
from ..extensions import db
from ..models import (
    AbuseReport,
    AuditEntry,
    Member,
    MemberStatus,
    MessageKind,
    Practice,
    PracticeStatus,
    ReportStatus,
    TargetGroup,
    Topic,
    User,
    utcnow,
)
from . import audit, directory, former_members, members
from .exports import neutralise
from .network_mail import enqueue_for_member
from .outbox import queued_alike
from .topics import label


@dataclass
class NetworkStatistics:
    members: int
    pending: int
    by_country: list[tuple[str, int]]
    by_target_group: list[tuple[TargetGroup, int]]
    by_topic: list[tuple[Topic, int]]
    joined_per_month: list[tuple[str, int]]


@dataclass(frozen=True)
class Waiting:
    """What waits for an organiser's decision in the network: the organiser pages' badges."""

    reports: int  # members' reports not yet decided on
    proposals: int  # practices proposed, or taken back for review, not yet published

    @property
    def total(self) -> int:
        return self.reports + self.proposals


def waiting() -> Waiting:
    """Counted once per request, and only on the pages that show it."""
    if "network_waiting" not in g:
        counts = db.session.execute(_WAITING).one()
        g.network_waiting = Waiting(reports=counts.reports, proposals=counts.proposals)
    return g.network_waiting


_WAITING = select(
    select(func.count())
    .select_from(AbuseReport)
    .where(AbuseReport.status == ReportStatus.OPEN)
    .scalar_subquery()
    .label("reports"),
    select(func.count())
    .select_from(Practice)
    .where(Practice.status == PracticeStatus.PROPOSED)
    .scalar_subquery()
    .label("proposals"),
)


def all_members() -> list[Member]:
    """Every member, confirmed or not, for the moderation page."""
    return list(db.session.scalars(select(Member).order_by(Member.created_at.desc())))


def set_hidden(member: Member, hidden: bool) -> None:
    """Take a confirmed member out of the directory and the public page, or put them back."""
    with write_transaction():
        locked = _locked(member.id)
        if locked is None or locked.is_pending:
            return
        locked.status = MemberStatus.HIDDEN if hidden else MemberStatus.ACTIVE


def remove(member: Member) -> None:
    """Delete a member's profile (an organiser's decision)."""
    with write_transaction():
        locked = _locked(member.id)
        if locked is not None:
            members.depart(locked)


def dismiss_report(report_id: int, *, actor: User) -> AbuseReport | None:
    """Close an open report with nothing done; None when it is gone or decided already."""
    with write_transaction():
        found = _locked_open(report_id)
        if found is None:
            return None
        _decide(found, ReportStatus.DISMISSED, actor)
    return found


def hide_reported(report_id: int, *, actor: User) -> AbuseReport | None:
    """Hide the member reported (out of the directory, no writing to members) and close every
    open report about them; None when the report is gone or decided already.

    A member reported who has left since is hidden should they join again."""
    with write_transaction():
        reported_id, key = db.session.execute(
            select(AbuseReport.reported_id, AbuseReport.former_key).where(
                AbuseReport.id == report_id
            )
        ).one_or_none() or (None, None)
        if reported_id is not None:
            # The member first, then their open reports in id order, as the member leaving
            # (and another organiser hiding them) locks them: nobody waits in a circle.
            member = _locked(reported_id)
            if member is None:
                return None
            about_them = _locked_open_reports(AbuseReport.reported_id == member.id)
        elif key is not None:
            member = None
            about_them = _locked_open_reports(AbuseReport.former_key == key)
        else:
            return None
        found = next((each for each in about_them if each.id == report_id), None)
        if found is None:
            return None
        if member is not None:
            set_hidden(member, hidden=True)
        else:
            former_members.hide(key)
        for each in about_them:
            _decide(each, ReportStatus.ACTED, actor)
    return found


def report_deciders(limit: int = 500) -> dict[int, AuditEntry]:
    """The audit entries of the latest decisions on reports, by report number."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_([f"abuse_report_{s.value}" for s in ReportStatus]))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return {entry.details["abuse_report"]: entry for entry in entries}


class AlreadyAnnounced(Exception):
    """The same announcement went to the members moments ago (a double click): not twice."""


def announce(subject: str, text: str) -> int:
    """Write to every confirmed member who did not stop the e-mails; returns how many.

    AlreadyAnnounced when the same subject and text went within ``outbox.REPEAT_WINDOW``."""
    with write_transaction():
        recipients = db.session.scalars(
            locking(  # a second click waits here, then finds the first one's e-mails
                select(Member)
                .where(Member.status != MemberStatus.PENDING, Member.receives_mail)
                .order_by(Member.id)
            )
        ).all()
        same = {"subject": subject, "text": text}
        if queued_alike(MessageKind.NETWORK_ANNOUNCEMENT, same):
            raise AlreadyAnnounced()
        for member in recipients:
            enqueue_for_member(MessageKind.NETWORK_ANNOUNCEMENT, member, subject=subject, text=text)
    return len(recipients)


def statistics() -> NetworkStatistics:
    """Members by country, target group and topic, and how many joined each month."""
    confirmed = db.session.scalars(
        select(Member.confirmed_at).where(Member.status == MemberStatus.ACTIVE)
    ).all()
    per_month = Counter(moment.strftime("%Y-%m") for moment in confirmed if moment)
    pending = sum(1 for m in all_members() if m.is_pending)
    return NetworkStatistics(
        members=directory.member_count(),
        pending=pending,
        by_country=directory.counts_by(Member.country),
        by_target_group=[
            (TargetGroup(value), count) for value, count in directory.counts_by(Member.target_group)
        ],
        by_topic=directory.counts_by_topic(),
        joined_per_month=sorted(per_month.items()),
    )


EXPORT_COLUMNS = ("name", "organisation", "country", "target_group", "role", "topics", "languages")
# Readable labels in the organiser's language after the codes, as the attendee exports have them.
LABEL_COLUMNS = {
    "country": _l("Country"),
    "target_group": _l("Target group"),
    "languages": _l("Languages spoken"),
}


def listed_members_csv() -> str:
    """Members who agreed to be listed, with only the fields they made public: UTF-8 with a BOM
    (Excel reads it as UTF-8), every field quoted, formula-safe, labels after the codes."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow([*EXPORT_COLUMNS, *(str(label) for label in LABEL_COLUMNS.values())])
    for member in directory.public_members():
        codes = [_cell(member, name) for name in EXPORT_COLUMNS]
        labels = [_label(member, name) for name in LABEL_COLUMNS]
        writer.writerow([neutralise(text) for text in (*codes, *labels)])
    return buffer.getvalue()


def _label(member: Member, name: str) -> str:
    """A coded field as the organiser reads it (empty when the member did not make it public)."""
    if not member.shows(name, to_members=False):
        return ""
    if name == "country":
        return country_name(member.country)
    if name == "target_group":
        return str(TARGET_GROUP_LABELS[member.target_group])
    return ", ".join(LANGUAGES.get(code, code) for code in member.languages)


def _cell(member: Member, name: str) -> str:
    if not member.shows(name, to_members=False):
        return ""
    if name == "topics":
        return "; ".join(label(topic) for topic in member.topics)
    if name == "languages":
        return " ".join(member.languages)
    if name == "target_group":
        return member.target_group.value
    return getattr(member, name) or ""


def _locked(member_id: int) -> Member | None:
    return db.session.scalar(locking(select(Member).where(Member.id == member_id)))


def _locked_open_reports(about_them: ColumnElement[bool]) -> list[AbuseReport]:
    return db.session.scalars(
        locking(
            select(AbuseReport)
            .where(about_them)
            .where(AbuseReport.status == ReportStatus.OPEN)
            .order_by(AbuseReport.id)
        )
    ).all()


def _decide(found: AbuseReport, status: ReportStatus, actor: User) -> None:
    found.status = status
    found.decided_at = utcnow()
    audit.record(f"abuse_report_{status.value}", actor=actor, abuse_report=found.id)


def _locked_open(report_id: int) -> AbuseReport | None:
    found = db.session.scalar(locking(select(AbuseReport).where(AbuseReport.id == report_id)))
    return found if found is not None and found.is_open else None
