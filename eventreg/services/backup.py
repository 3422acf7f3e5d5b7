"""Backups taken while the service keeps running: the SQLite database and the uploaded files."""

import sqlite3
import tarfile
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..extensions import db
from ..models import utcnow
from .private_files import private_folder, write_private
from .storage import local_folder

# Next to each database copy, its uploaded files: eventreg-<time>.sqlite3, eventreg-<time>.files.tar
DATABASE_SUFFIX = ".sqlite3"
FILES_SUFFIX = ".files.tar"
PART_SUFFIX = ".part"  # a copy being written


class BackupError(RuntimeError):
    """The backup could not be written."""


@dataclass(frozen=True)
class Backup:
    """What one backup wrote; ``files`` is None when ``STORAGE_CLASS`` keeps the files."""

    database: Path | None
    files: Path | None


def back_up(target: Path | None = None, *, files_only: bool = False) -> Backup:
    """Copy the database, then archive the uploaded files; in ``backups/`` unless ``target``.

    In this order, every file the database copy names is in the archive: a file is stored
    before its row is committed. With ``target`` (the database copy's path, or with
    ``files_only`` the archive's), nothing is rotated.
    """
    if target is None:
        stem = backup_folder() / f"eventreg-{utcnow():%Y%m%dT%H%M%SZ}"
        database_path, files_path = (
            stem.with_suffix(DATABASE_SUFFIX),
            stem.with_suffix(FILES_SUFFIX),
        )
    elif files_only:
        database_path, files_path = None, target
    elif target.name.endswith(FILES_SUFFIX):
        raise BackupError(f"name the database copy, not its archive: {target}")
    else:  # copy.sqlite3 and copy.files.tar, or copy.db and copy.db.files.tar
        database_path = target
        files_path = target.with_name(target.name.removesuffix(DATABASE_SUFFIX) + FILES_SUFFIX)
    started = time.time()
    # Written under ".part" names and given their own only once both are complete: a backup
    # killed halfway (a reboot, the OOM killer) never counts as one, which rotation would keep
    # in the place of a good one.
    if not files_only:
        backup_database(_part(database_path))
    files = backup_files(_part(files_path))
    if files is not None:
        files = files.replace(files_path)
    database = None if files_only else _part(database_path).replace(database_path)
    if target is None:
        remove_old_backups()
        _remove_unfinished(started)
    return Backup(database, files)


def _part(path: Path) -> Path:
    return path.with_name(path.name + PART_SUFFIX)


def _remove_unfinished(before: float) -> None:
    """What a backup killed halfway left (its ".part" files and SQLite's journal of them)."""
    for path in backup_folder().glob(f"eventreg-*{PART_SUFFIX}*"):
        with suppress(FileNotFoundError):
            if path.stat().st_mtime < before:
                path.unlink()


def backup_database(target: Path) -> Path:
    """Copy the database with SQLite's online backup API (readers and writers carry on)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError(
            "backup copies SQLite databases; for PostgreSQL use pg_dump (README), and"
            " `flask backup --files-only` for the uploaded files"
        )
    _create_private(target)  # the copy holds personal data: 0600 before a byte is in it
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


def backup_files(target: Path) -> Path | None:
    """Archive the uploaded files (a tar of the storage folder, by key); None when the
    configured ``STORAGE_CLASS`` keeps them, and backing them up is that store's business."""
    folder = local_folder()
    if folder is None:
        return None
    _create_private(target)  # practice documents may hold personal data
    try:
        with tarfile.open(target, "w") as archive:  # truncates the private file, keeps 0600
            for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
                if path.is_file() and not path.name.startswith("."):  # not an upload half-written
                    # A file deleted since the folder was listed is left out: its row is gone.
                    with suppress(FileNotFoundError):
                        archive.add(path, arcname=path.relative_to(folder).as_posix())
    except OSError as exc:
        raise BackupError(f"archiving the files failed: {exc}") from exc
    return target


def _create_private(path: Path) -> None:
    try:
        write_private(path, b"")
    except OSError as exc:
        raise BackupError(f"cannot write {path}: {exc}") from exc


def backup_folder() -> Path:
    return private_folder(Path(current_app.instance_path) / "backups")


def remove_old_backups() -> list[Path]:
    """Keep the newest BACKUP_KEEP backups (a database copy and its archive count as one);
    return the files removed."""
    folder = backup_folder()
    backups: dict[str, list[Path]] = {}
    for suffix in (DATABASE_SUFFIX, FILES_SUFFIX):
        for path in folder.glob(f"eventreg-*{suffix}"):
            backups.setdefault(path.name.removesuffix(suffix), []).append(path)
    newest_first = sorted(backups, reverse=True)  # eventreg-<UTC time>: names sort by time
    old = [
        path for stem in newest_first[current_app.config["BACKUP_KEEP"] :] for path in backups[stem]
    ]
    for path in old:
        path.unlink(missing_ok=True)
    return old
