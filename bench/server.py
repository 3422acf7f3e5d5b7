"""Starting gunicorn as the README's production set-up does, on a free loopback port."""

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from eventreg.config import DefaultConfig

from .client import wait_until_up

# wrk and the rush come from one address; a real rush comes from many. Limits per address stay
# switched on (their cost is part of every request) but out of reach.
UNREACHABLE_LIMIT = "1000000 per minute"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def venv_command(name: str) -> str:
    """A console script of the virtualenv the harness runs in (gunicorn, flask)."""
    return str(Path(sys.executable).parent / name)


def service_env(database_url: str, secret_key: str) -> dict[str, str]:
    """The EVENTREG_* settings production passes through the environment, plus lifted limits."""
    return {
        "EVENTREG_SECRET_KEY": secret_key,
        "EVENTREG_SQLALCHEMY_DATABASE_URI": database_url,
        **{f"EVENTREG_{name}": UNREACHABLE_LIMIT for name in rate_limit_settings()},
    }


def rate_limit_settings() -> list[str]:
    """The per-address limits the app defines, such as RATELIMIT_SIGNUP = "30 per minute"."""
    return [
        name
        for name, value in vars(DefaultConfig).items()
        if name.startswith("RATELIMIT_") and isinstance(value, str) and " per " in value
    ]


@contextmanager
def gunicorn(
    root: Path, app: str, env: dict[str, str], log_path: Path, ready_path: str
) -> Iterator[str]:
    """Serve ``app`` with ``gunicorn --config gunicorn.conf.py``; yield its base URL.

    ``env`` carries the GUNICORN_* and EVENTREG_* settings; access and error logs go to
    ``log_path``. The server is stopped (gracefully, then killed) when the block ends.
    """
    with gunicorn_process(root, app, env, log_path, ready_path) as (base_url, _master):
        yield base_url


@contextmanager
def gunicorn_process(
    root: Path, app: str, env: dict[str, str], log_path: Path, ready_path: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """As ``gunicorn``, also yielding the master process (its workers are its children)."""
    port = free_port()
    settings = os.environ | env | {"GUNICORN_BIND": f"127.0.0.1:{port}"}
    command = [venv_command("gunicorn"), "--config", "gunicorn.conf.py", app]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=root, env=settings, stdout=log, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, ready_path, process)
        yield base_url, process
    finally:
        _stop(process)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers of a master)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def worker_cpu_seconds(masters: Iterable[int]) -> float:
    """CPU time (user + system) the workers of these gunicorn masters have used so far.

    Read from ``/proc/<pid>/stat`` (utime and stime, in clock ticks) of every child of each
    master; read before and after a load, the difference divided by the requests served is
    the CPU a request costs, which other work on the machine disturbs far less than req/s.
    """
    return cpu_seconds(pid for master in masters for pid in children(master))


def cpu_seconds(pids: Iterable[int]) -> float:
    """CPU time (user + system) these processes have used so far; ended ones count nothing."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> dict[str, int]:
    """Resident memory now and at its peak (VmRSS, VmHWM), in KiB."""
    wanted = {"VmRSS": "rss_kib", "VmHWM": "peak_rss_kib"}
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in wanted:
            figures[wanted[name]] = int(value.split()[0])
    return figures


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM lets gunicorn finish its requests; kill it if it takes longer than its grace."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
