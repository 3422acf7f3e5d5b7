"""Files with personal data (saved mail, backups) readable by the service's account only."""

import os
from pathlib import Path


def private_folder(folder: Path) -> Path:
    """Create the folder (or tighten an existing one) so only this account can enter it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def write_private(path: Path, data: bytes) -> None:
    """Write a file only this account can read, whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), 0o600)  # an existing file would keep its old mode
        file.write(data)
