"""Event materials: files typed from their content (never their name), links, who sees which."""

from dataclasses import dataclass

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from werkzeug.datastructures import FileStorage

from ..database import lock, locking, write_transaction
from ..extensions import db
from ..models import (
    Event,
    Material,
    MaterialVisibility,
    MessageKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
)
from .outbox import enqueue
from .storage import new_key, storage

# What organisers share: documents, slides, spreadsheets and images. The extension is ours.
ALLOWED_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/msword": "doc",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.ms-excel": "xls",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}


class MaterialRefused(Exception):
    """A file or link that cannot be shared; ``field`` says which input is at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class FileType:
    mime: str
    extension: str


def detect_type(data: bytes) -> FileType:
    """The file's real type from its first bytes, or MaterialRefused when it is not allowed."""
    if not data:
        raise MaterialRefused("file", str(_l("The file is empty.")))
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise MaterialRefused(
            "file",
            str(
                _l(
                    "This file's content is not a PDF, an office document or an image "
                    "(whatever its name says), so it cannot be shared."
                )
            ),
        )
    return FileType(kind.mime, ALLOWED_TYPES[kind.mime])


def max_bytes() -> int:
    return current_app.config["MATERIALS_MAX_MB"] * 1024 * 1024


def add(
    event: Event,
    titles: dict[str, str],
    visibility: MaterialVisibility,
    *,
    upload: FileStorage | None = None,
    url: str | None = None,
) -> Material:
    """Share an uploaded file or, without one, a link."""
    if upload:
        return add_file(event, upload.read(), upload.filename or "", titles, visibility)
    return add_link(event, url, titles, visibility)


def add_file(
    event: Event,
    data: bytes,
    filename: str,
    titles: dict[str, str],
    visibility: MaterialVisibility,
) -> Material:
    """Store an uploaded file once its content proves an allowed type."""
    if len(data) > max_bytes():
        limit = current_app.config["MATERIALS_MAX_MB"]
        raise MaterialRefused("file", str(_l("The file is larger than %(mb)d MB.", mb=limit)))
    found = detect_type(data)
    stem = filename.rsplit(".", 1)[0].strip() or "material"
    key = new_key(f"materials/{event.id}")
    storage().put(key, data)
    try:
        with write_transaction():
            material = _new(event, titles, visibility)
            material.storage_key = key
            material.filename = f"{stem[:180]}.{found.extension}"
            material.content_type = found.mime
            material.size = len(data)
    except Exception:
        storage().delete(key)
        raise
    return material


def add_link(
    event: Event, url: str, titles: dict[str, str], visibility: MaterialVisibility
) -> Material:
    """Share a link (a recording, an external document)."""
    with write_transaction():
        material = _new(event, titles, visibility)
        material.url = url
    return material


def _new(event: Event, titles: dict[str, str], visibility: MaterialVisibility) -> Material:
    translations = {lang: text for lang, text in titles.items() if lang != "en" and text}
    material = Material(
        event=event, title=titles["en"], translations=translations, visibility=visibility
    )
    db.session.add(material)
    return material


def delete(material: Material) -> None:
    """Remove a material and its file."""
    key = material.storage_key
    with write_transaction():
        db.session.delete(material)
    if key:
        storage().delete(key)


def for_event(event: Event, *, registrant_view: bool = False) -> list[Material]:
    """The event's materials: public ones, and also registrants-only ones when allowed."""
    query = select(Material).where(Material.event_id == event.id).order_by(Material.id)
    if not registrant_view:
        query = query.where(Material.visibility == MaterialVisibility.PUBLIC)
    return list(db.session.scalars(query))


def can_see(material: Material, registration: Registration | None) -> bool:
    """Public materials for everyone; the others for a confirmed registrant of the event."""
    if material.is_public:
        return True
    return (
        registration is not None
        and registration.event_id == material.event_id
        and registration.is_confirmed
    )


def content(material: Material) -> bytes:
    """The stored bytes of a file material."""
    return storage().get(material.storage_key)


def announce(event: Event) -> int:
    """Tell every confirmed registrant, once, that the event's materials are available."""
    already = exists().where(
        OutboxMessage.registration_id == Registration.id,
        OutboxMessage.kind == MessageKind.MATERIALS_AVAILABLE,
    )
    with write_transaction():
        # Two organisers announcing at once: the second waits here, then sees the first's
        # e-mails (a lock on the registrations alone lets it read the outbox as it was before).
        lock(event)
        due = db.session.scalars(
            locking(
                select(Registration)
                .where(Registration.event_id == event.id)
                .where(Registration.status == RegistrationStatus.CONFIRMED)
                .where(~already)
                .order_by(Registration.id)
            )
        ).all()
        due = [r for r in due if r.registrant.email]  # anonymised people get no mail
        for registration in due:
            enqueue(MessageKind.MATERIALS_AVAILABLE, registration)
    return len(due)
