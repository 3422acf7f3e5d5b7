"""Consistent copies of the SQLite database, taken while the service keeps running."""

import sqlite3
from pathlib import Path

from flask import current_app

from ..extensions import db
from ..models import utcnow


class BackupError(RuntimeError):
    """The backup could not be written."""


def backup_database(target: Path | None = None) -> Path:
    """Copy the database with SQLite's online backup API (readers and writers carry on)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError("backup copies SQLite databases; for PostgreSQL use pg_dump (README)")
    if target is None:
        folder = Path(current_app.instance_path) / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"eventreg-{utcnow():%Y%m%dT%H%M%SZ}.sqlite3"
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
    return target
