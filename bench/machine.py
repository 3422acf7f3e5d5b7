"""What a run ran on: the machine, the versions and the commit, for the report's header."""

import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

PACKAGES = ("Flask", "gunicorn", "SQLAlchemy", "psycopg")
# Changes here do not change the app under test.
_HARNESS_PATHS = (":!bench", ":!tests/test_bench_smoke.py")


def describe(root: Path, wrk: str, postgres: str | None) -> dict:
    """Core count, CPU, versions and the app's commit."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "packages": {name: version(name) for name in PACKAGES},
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres,
        "wrk": wrk,
        **_commit(root),
    }


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.machine()


def _commit(root: Path) -> dict:
    """The commit under test, and whether the app had uncommitted changes outside bench/."""
    try:
        commit = _git(root, "rev-parse", "--short", "HEAD")
        changes = _git(
            root, "status", "--porcelain", "--untracked-files=no", "--", ".", *_HARNESS_PATHS
        )
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "uncommitted_app_changes": None}
    return {"commit": commit, "uncommitted_app_changes": bool(changes)}


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
