"""Exports of many registrations: time against a plain dump of the same rows, and peak memory.

For each size (5,000 and 50,000 registrations of one in-person event, all confirmed, so that
the PDF sign-in sheet lists them all), a fresh copy of the database is filled in bulk and
served by gunicorn as in production but with one sync worker, whose memory is then the
export's. An organiser (``flask users``) downloads the CSV, the XLSX and the PDF with a bearer
token, each from a newly started server, so that the worker's peak resident memory (VmHWM)
belongs to that one download. The baseline runs the export's own SQL query with the
database's command-line client: ``sqlite3 -csv``, or ``psql`` with ``\\copy ... csv``.

The CSV goal is 3x the dump. Memory is flat when ten times the rows leave the worker's peak
within ``FLAT_MIB`` of the smaller export's.
"""

import subprocess
import time
from pathlib import Path

import sqlalchemy as sa

from eventreg.extensions import db
from eventreg.services import events, exports

from . import client
from .app import app_on
from .databases import Copies, organiser_token
from .fill import fill
from .server import children, gunicorn_process, memory_kib
from .settings import TICKET_EVENT

FORMATS = {
    "csv": "attendees.csv",
    "xlsx": "attendees.xlsx",
    "pdf": "attendees.pdf",
}
CSV_GOAL = 3.0  # the CSV download's time as a multiple of the dump's
FLAT_MIB = 16  # peak memory may grow this much from the small to the large export
ONE_WORKER = {"GUNICORN_WORKER_CLASS": "sync", "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "1"}


def measure_exports(
    copies: Copies, service: dict[str, str], sizes: tuple[int, int], root: Path, workdir: Path
) -> dict:
    """Download times, dump times and peak memory for each size; the goals' verdicts."""
    by_size = {}
    for size in sizes:
        with copies() as url:
            fill(url, TICKET_EVENT, size, seats=size)
            env = service | ONE_WORKER | {"EVENTREG_SQLALCHEMY_DATABASE_URI": url}
            token = organiser_token(root, env, f"exports-{size}@example.org")
            dump = _dump(url)
            downloads = {
                name: _download(root, env, token, path, workdir / f"exports-{size}-{name}.log")
                for name, path in FORMATS.items()
            }
        for figures in downloads.values():
            figures["ratio_to_dump"] = round(figures["seconds"] / dump["seconds"], 2)
        by_size[str(size)] = {"dump": dump, "downloads": downloads}
    small, large = (by_size[str(size)]["downloads"] for size in sizes)
    growth = {
        name: round((large[name]["peak_rss_kib"] - small[name]["peak_rss_kib"]) / 1024, 1)
        for name in FORMATS
    }
    csv_ratio = large["csv"]["ratio_to_dump"]
    return {
        "sizes": list(sizes),
        "by_size": by_size,
        "peak_growth_mib": growth,
        "flat": {name: mib <= FLAT_MIB for name, mib in growth.items()},
        "csv_ratio": csv_ratio,
        "csv_goal": CSV_GOAL,
        "csv_meets_goal": csv_ratio <= CSV_GOAL,
    }


def _download(root: Path, env: dict[str, str], token: str, name: str, log: Path) -> dict:
    """One download, read to the end, from a server started for it alone."""
    path = f"/admin/events/{TICKET_EVENT}/{name}"
    with gunicorn_process(root, "wsgi:app", env, log, "/") as (base_url, master):
        (worker,) = children(master.pid)
        before = memory_kib(worker)
        connection = client.connect(base_url, timeout=600)
        started = time.perf_counter()
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        received = 0
        while chunk := response.read(64 * 1024):
            received += len(chunk)
        seconds = time.perf_counter() - started
        connection.close()
        after = memory_kib(worker)
    if response.status != 200:
        raise RuntimeError(f"GET {path} gave {response.status}")
    return {
        "seconds": round(seconds, 3),
        "bytes": received,
        "rss_before_kib": before["rss_kib"],
        "peak_rss_kib": after["peak_rss_kib"],
    }


def _dump(url: str) -> dict:
    """The export's query run by the database's own command-line client, CSV to a pipe."""
    sql = _export_sql(url)
    parts = sa.make_url(url)
    if parts.get_backend_name() == "sqlite":
        command = ["sqlite3", "-csv", "-header", parts.database, sql]
    else:
        plain = parts.set(drivername="postgresql").render_as_string(hide_password=False)
        command = ["psql", "-X", "-q", plain, "-c", f"\\copy ({sql}) to stdout with csv header"]
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, check=True)
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "bytes": len(finished.stdout),
        "client": command[0],
    }


def _export_sql(url: str) -> str:
    """The SQL of the event's export, with its parameters written in, on one line."""
    app = app_on(url)
    with app.app_context():
        query = exports.attendee_query(events.find(TICKET_EVENT))
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        db.engine.dispose()
    return " ".join(str(compiled).split())
