"""Where uploaded and generated files live: one small interface, by default a folder in instance/.

Every caller goes through ``storage()``; a shared store (object storage, a network folder) for
several machines replaces ``LocalFolderStorage`` by implementing the same four methods and being
named in ``STORAGE_CLASS``.
"""

import os
import secrets
from pathlib import Path, PurePosixPath
from typing import Protocol

from flask import Flask, current_app
from werkzeug.utils import import_string


class StorageError(Exception):
    """A key that is not a safe relative path, or a file that is not there."""


class Storage(Protocol):
    """Put, get and delete bytes by a relative key such as ``materials/3/a1b2c3``."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def new_key(prefix: str) -> str:
    """A fresh, unguessable key under a prefix (never derived from a user's file name)."""
    return f"{prefix.strip('/')}/{secrets.token_hex(16)}"


def _checked(key: str) -> PurePosixPath:
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key:
        raise StorageError(f"not a storage key: {key!r}")
    return path


class LocalFolderStorage:
    """Files in one folder on this machine; writes are atomic (write aside, then rename)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_checked(key).parts)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        partial.write_bytes(data)
        os.replace(partial, path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as error:
            raise StorageError(f"no file stored as {key!r}") from error

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def init_app(app: Flask) -> None:
    """Create the store named by ``STORAGE_CLASS`` once; the default folder needs no set-up."""
    configured = app.config.get("STORAGE_CLASS")
    if configured:
        app.extensions["eventreg.storage"] = import_string(configured)(app)


def storage() -> Storage:
    """The current app's store: the configured one, or ``instance/<STORAGE_FOLDER>``."""
    configured = current_app.extensions.get("eventreg.storage")
    if configured is not None:
        return configured
    return LocalFolderStorage(_instance_folder())


def local_folder() -> Path | None:
    """The folder the files are kept in, or None when ``STORAGE_CLASS`` keeps them elsewhere."""
    if current_app.extensions.get("eventreg.storage") is not None:
        return None
    return _instance_folder()


def _instance_folder() -> Path:
    return Path(current_app.instance_path) / current_app.config["STORAGE_FOLDER"]
