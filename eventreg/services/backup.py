"""Consistent copies of the SQLite database, taken while the service keeps running."""

import sqlite3
from pathlib import Path

from flask import current_app

from ..extensions import db
from ..models import utcnow
from .private_files import private_folder, write_private


class BackupError(RuntimeError):
    """The backup could not be written."""


def backup_database(target: Path | None = None) -> Path:
    """Copy the database with SQLite's online backup API (readers and writers carry on)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError("backup copies SQLite databases; for PostgreSQL use pg_dump (README)")
    rotate = target is None
    if target is None:
        target = backup_folder() / f"eventreg-{utcnow():%Y%m%dT%H%M%SZ}.sqlite3"
    write_private(target, b"")  # the copy holds personal data: 0600 before a byte is in it
    source = sqlite3.connect(url.database)
    destination = sqlite3.connect(target)
    try:
        with destination:
            source.backup(destination, pages=1024)
    except sqlite3.Error as exc:
        raise BackupError(f"backup failed: {exc}") from exc
    finally:
        destination.close()
        source.close()
    if rotate:
        remove_old_backups()
    return target


def backup_folder() -> Path:
    return private_folder(Path(current_app.instance_path) / "backups")


def remove_old_backups() -> list[Path]:
    """Keep the newest BACKUP_KEEP copies in the backup folder; return those removed."""
    copies = sorted(backup_folder().glob("eventreg-*.sqlite3"), reverse=True)
    old = copies[current_app.config["BACKUP_KEEP"] :]
    for copy in old:
        copy.unlink(missing_ok=True)
    return old
