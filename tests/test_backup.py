"""`flask backup`: a consistent database copy and the uploaded files, restorable together."""

import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

from eventreg.extensions import db
from eventreg.models import Event, MaterialVisibility
from eventreg.services import materials, registrations
from eventreg.services.backup import BackupError, back_up, backup_database, remove_old_backups
from eventreg.services.storage import LocalFolderStorage, storage
from tests.support.factories import details

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def mode(path) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


def archived(path: Path) -> dict[str, bytes]:
    """An archive's files by name, with their bytes."""
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}


class StoreElsewhere(LocalFolderStorage):
    """A configured store (STORAGE_CLASS): files kept in a folder of its own (STORE_FOLDER)."""

    def __init__(self, app):
        super().__init__(app.config["STORE_FOLDER"])


@pytest.mark.sqlite_only
def test_backup_while_people_sign_up_is_consistent(app, make_event, tmp_path):
    """SQLite's online backup; PostgreSQL deployments use pg_dump (README)."""
    event_id = make_event(capacity=None).id
    stop = threading.Event()

    def keep_signing_up():
        n = 0
        with app.app_context():  # its own session: objects never cross threads
            event = db.session.get(Event, event_id)
            while not stop.is_set() and n < 500:
                registrations.sign_up(details(email=f"b{n}@example.org"), [event], "test")
                n += 1

    writer = threading.Thread(target=keep_signing_up)
    writer.start()
    try:
        copies = [backup_database(tmp_path / f"copy{i}.sqlite3") for i in range(3)]
    finally:
        stop.set()
        writer.join()
    for copy in copies:
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            people = connection.execute("SELECT count(*) FROM registrant").fetchone()[0]
            seats = connection.execute("SELECT count(*) FROM registration").fetchone()[0]
            mails = connection.execute("SELECT count(*) FROM outbox_message").fetchone()[0]
            assert people == seats == mails  # no sign-up is half in a copy


@pytest.mark.sqlite_only
def test_a_restored_backup_serves_the_uploaded_files(
    app, runner, client, make_app, make_event, tmp_path
):
    event = make_event()
    material = materials.add_file(
        event, PDF, "agenda.pdf", {"en": "Agenda"}, MaterialVisibility.PUBLIC
    )
    # An upload still being written when the backup runs is not a file yet.
    half_written = Path(app.instance_path) / "files" / "materials" / ".x.1234.part"
    half_written.write_bytes(b"%PDF-1.7 half")

    result = runner.invoke(args=["backup"])

    assert result.exit_code == 0, result.output
    folder = Path(app.instance_path) / "backups"
    (database,) = folder.glob("eventreg-*.sqlite3")
    (files,) = folder.glob("eventreg-*.files.tar")
    assert database.name.removesuffix(".sqlite3") == files.name.removesuffix(".files.tar")
    assert f"Database copied to {database}" in result.output
    assert f"Uploaded files archived in {files}" in result.output
    assert mode(files) == 0o600
    assert archived(files) == {material.storage_key: PDF}

    # Restore as the README says: the copy as the database, the archive into instance/files.
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(database, restored / "eventreg.sqlite3")
    subprocess.run(["mkdir", "-p", "-m", "700", restored / "files"], check=True)
    subprocess.run(["tar", "-xf", files, "-C", restored / "files"], check=True)
    restored_app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{restored / 'eventreg.sqlite3'}")
    restored_app.instance_path = str(restored)
    response = restored_app.test_client().get(f"/events/{event.slug}/materials/{material.id}")
    assert response.status_code == 200
    assert response.data == PDF


@pytest.mark.sqlite_only
def test_backup_to_a_path_puts_the_files_next_to_the_copy(app, runner, make_event, tmp_path):
    event = make_event()
    material = materials.add_file(event, PDF, "a.pdf", {"en": "A"}, MaterialVisibility.PUBLIC)

    result = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite3")])

    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in tmp_path.glob("copy*")) == [
        "copy.files.tar",
        "copy.sqlite3",
    ]
    assert archived(tmp_path / "copy.files.tar") == {material.storage_key: PDF}
    assert not (Path(app.instance_path) / "backups").exists()  # nothing rotated there

    dotted = tmp_path / "2027.03.24.sqlite3"
    assert runner.invoke(args=["backup", str(dotted)]).exit_code == 0
    assert archived(tmp_path / "2027.03.24.files.tar") == {material.storage_key: PDF}
    refused = runner.invoke(args=["backup", str(tmp_path / "copy.files.tar")])
    assert refused.exit_code != 0 and "name the database copy" in refused.output
    assert archived(tmp_path / "copy.files.tar") == {material.storage_key: PDF}  # untouched
    missing = runner.invoke(args=["backup", str(tmp_path / "no" / "such" / "folder.sqlite3")])
    assert missing.exit_code != 0 and "cannot write" in missing.output


@pytest.mark.sqlite_only
def test_backups_are_private_and_only_the_newest_are_kept(make_app):
    app = make_app(BACKUP_KEEP=2)
    with app.app_context():
        folder = Path(app.instance_path) / "backups"
        folder.mkdir(parents=True)
        for day in ("20260101", "20260102", "20260103"):
            (folder / f"eventreg-{day}T000000Z.sqlite3").write_bytes(b"old copy")
            (folder / f"eventreg-{day}T000000Z.files.tar").write_bytes(b"old files")
        # A newer archive whose database copy failed counts as one backup, not half of one.
        (folder / "eventreg-20260104T000000Z.files.tar").write_bytes(b"files only")

        written = back_up()

        assert mode(folder) == 0o700
        assert mode(written.database) == 0o600 and mode(written.files) == 0o600
        kept = sorted(path.name for path in folder.iterdir())
        assert kept == sorted(
            ["eventreg-20260104T000000Z.files.tar", written.database.name, written.files.name]
        )


# `flask backup` killed (a reboot, the OOM killer) after SQLite copied the first page.
KILLED_HALFWAY = """
import os, signal, sqlite3, sys
from eventreg import create_app
from eventreg.services import backup
from tests.support.database import base_config

real_connect = sqlite3.connect

class Killed:
    Error = sqlite3.Error

    @staticmethod
    def connect(path):
        connection = real_connect(path)
        if path != sys.argv[1]:
            return connection

        class Source:
            def backup(self, target, pages=-1):
                die = lambda *_: os.kill(os.getpid(), signal.SIGKILL)
                connection.backup(target, pages=1, progress=die)

            def close(self):
                connection.close()

        return Source()

backup.sqlite3 = Killed
app = create_app(base_config("sqlite:///" + sys.argv[1]))
app.instance_path = sys.argv[2]
with app.app_context():
    backup.back_up()
"""


@pytest.mark.sqlite_only
def test_a_backup_killed_halfway_is_never_kept_in_the_place_of_a_good_one(
    make_app, make_event, sign_up
):
    app = make_app(BACKUP_KEEP=1)
    with app.app_context():
        for n in range(20):  # more than one page to copy
            sign_up(make_event(slug=f"event-{n}"), email=f"p{n}@example.org")
        good = back_up()
        database = db.engine.url.database
        killed = subprocess.run(
            [sys.executable, "-c", KILLED_HALFWAY, database, app.instance_path],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        folder = Path(app.instance_path) / "backups"
        names = {path.name for path in folder.iterdir()}
        assert names - {good.database.name, good.files.name}  # it left something behind
        assert remove_old_backups() == []  # and that is no backup: the good one stays
        assert good.database.exists()
        time.sleep(1.1)  # the next backup's name is a second later
        newest = back_up()
        assert sorted(path.name for path in folder.iterdir()) == sorted(
            [newest.database.name, newest.files.name]
        )
        copied = sqlite3.connect(newest.database).execute("SELECT count(*) FROM registration")
        assert copied.fetchone() == (20,)


def test_files_kept_by_a_configured_store_are_left_to_it(make_app, tmp_path):
    store = tmp_path / "elsewhere"
    app = make_app(STORAGE_CLASS=f"{__name__}.StoreElsewhere", STORE_FOLDER=str(store))
    with app.app_context():
        storage().put("materials/1/abc", PDF)

        result = app.test_cli_runner().invoke(args=["backup", "--files-only"])

        assert result.exit_code == 0, result.output
        assert "kept by STORAGE_CLASS" in result.output
        assert not list((Path(app.instance_path) / "backups").glob("*.files.tar"))
    assert (store / "materials" / "1" / "abc").read_bytes() == PDF  # the store kept it


@pytest.mark.postgresql_only
def test_backup_refuses_postgresql_with_a_pointer_and_archives_its_files(app, runner, make_event):
    with pytest.raises(BackupError, match="pg_dump"):
        back_up()
    result = runner.invoke(args=["backup"])
    assert result.exit_code != 0
    assert "--files-only" in result.output

    event = make_event()
    material = materials.add_file(event, PDF, "a.pdf", {"en": "A"}, MaterialVisibility.PUBLIC)
    result = runner.invoke(args=["backup", "--files-only"])

    assert result.exit_code == 0, result.output
    (files,) = (Path(app.instance_path) / "backups").glob("eventreg-*.files.tar")
    assert archived(files) == {material.storage_key: PDF}
    assert "Database copied" not in result.output
