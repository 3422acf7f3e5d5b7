"""What a run ran on: the machine, the versions and the commit, for the report's header."""

import os
import platform
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

# Below this share of busy CPU time (from other processes) the machine counts as quiet.
QUIET_SHARE = 0.15
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


def wait_until_quiet(max_wait_s: float) -> float:
    """Wait (up to ``max_wait_s``) until other processes leave the CPUs nearly idle.

    Called between set-ups, when none of ours runs: whatever keeps the CPUs busy then (a test
    suite, a build) would steal cycles from the next measurement. Returns the busy share of
    the last one-second sample, for the report.
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        share = busy_share()
        if share <= QUIET_SHARE or time.monotonic() >= deadline:
            return share


def busy_share(seconds: float = 1.0) -> float:
    """The share of all CPUs' time spent busy over the next ``seconds``, to two places."""
    before = _cpu_times()
    time.sleep(seconds)
    after = _cpu_times()
    total = sum(after) - sum(before)
    idle = (after[3] + after[4]) - (before[3] + before[4])  # idle and iowait
    return round((total - idle) / total, 2) if total else 0.0


def _cpu_times() -> list[int]:
    try:
        first = Path("/proc/stat").read_text().splitlines()[0]
    except OSError:
        return [0] * 5
    return [int(value) for value in first.split()[1:]]


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
