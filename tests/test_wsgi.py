"""The module gunicorn loads."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_workers_app_is_kept_out_of_full_collections(tmp_path):
    """Everything the app built to start is frozen: the collector's full passes skip it."""
    env = os.environ | {
        "EVENTREG_SECRET_KEY": "k" * 40,
        "EVENTREG_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    code = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    frozen, tracked = map(int, out.stdout.split())
    assert frozen > 50_000 and tracked < frozen / 10
