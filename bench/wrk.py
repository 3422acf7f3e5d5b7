"""Running wrk with one of our Lua scripts and reading back the JSON line it prints."""

import json
import shutil
import subprocess
from pathlib import Path

from .settings import Sizes

LUA_DIR = Path(__file__).resolve().parent / "lua"
_MARKER = "BENCH_JSON "


def wrk_version() -> str | None:
    """wrk's version line, or None when wrk is not installed."""
    if shutil.which("wrk") is None:
        return None
    # wrk prints its version in the usage text and exits non-zero.
    output = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return output.splitlines()[0].split(" Copyright")[0] if output else "wrk"


def run_wrk(url: str, script: str, args: list[str], sizes: Sizes, duration_s: int) -> dict:
    """Load ``url`` for ``duration_s`` seconds; return throughput, latency and error counts."""
    command = [
        "wrk",
        f"-t{sizes.wrk_threads}",
        f"-c{sizes.connections}",
        f"-d{duration_s}s",
        "--timeout",
        "30s",
        "-s",
        script,
        url,
        "--",
        *args,
    ]
    finished = subprocess.run(
        command, cwd=LUA_DIR, capture_output=True, text=True, timeout=duration_s + 120
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith(_MARKER)]
    if finished.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr.strip()}")
    return _summary(json.loads(lines[-1][len(_MARKER) :]))


def _summary(raw: dict) -> dict:
    """Requests a second and milliseconds from wrk's raw counts and microseconds."""
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[name] for name in ("connect_errors", "read_errors", "write_errors"))
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "error_responses": raw["status_errors"],  # status 400 or more
        "socket_errors": errors,
        "timeouts": raw["timeouts"],
    }
