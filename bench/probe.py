"""A quick look at a few throughput scenarios, for working on one path (not the full report).

    .venv/bin/python -m bench.probe signup_api checkin --backend sqlite --seconds 5
    .venv/bin/python -m bench.probe api_events --backend postgresql --cluster

Sets up a database as ``bench/run`` does, serves eventreg with gunicorn (sync workers by
default) and prints, per scenario, requests a second and the workers' CPU milliseconds per
request, next to the hello floor's and (for sign-ups) the write floor's. Nothing is written
under ``bench/``. PostgreSQL needs ``EVENTREG_TEST_POSTGRES_URL`` (``scripts/test`` and
``bench/run`` start a throwaway server; ``source scripts/_postgres.sh; start_test_postgres``).
"""

import argparse
import os
import secrets
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from .cluster import cluster
from .databases import prepared_databases, write_bench_programme
from .harness import ROOT, Run, warm_up
from .scenarios import SCENARIOS
from .server import gunicorn_process, service_env
from .settings import FULL, SIGNUP_EVENT, WORKER_SETUPS

ADMITTED = "checked_in"
KEYS = [scenario.key for scenario in SCENARIOS]


def main() -> None:
    """Measure the scenarios named on the command line and print one line each."""
    options = _parse()
    sizes = replace(FULL, duration_s=options.seconds, warmup_s=1, quiet_wait_s=0)
    workdir = Path(tempfile.mkdtemp(prefix="eventreg-probe-"))
    run = Run(sizes, workdir)
    workers = WORKER_SETUPS[options.worker_class]
    postgres_url = os.environ.get("EVENTREG_TEST_POSTGRES_URL")
    if options.backend == "postgresql" and not postgres_url:
        raise SystemExit("set EVENTREG_TEST_POSTGRES_URL (see the docstring)")
    programme = write_bench_programme(workdir / "bench-programme.toml", sizes.rush_seats)
    wanted = [s for s in SCENARIOS if s.key in options.scenarios]
    if any(s.key == "checkin" for s in wanted) and not any(
        s.key.startswith("signup") for s in wanted
    ):
        wanted.insert(0, next(s for s in SCENARIOS if s.key == "signup_api"))  # fills the seats
    try:
        with prepared_databases(options.backend, workdir, postgres_url, ROOT, programme) as copies:
            if options.cluster:
                floor = run.cluster_floor()
            else:
                floor = run.measure_floor(workers, workdir / "floor.log")
            _line("hello floor", floor)
            if any(s.kind == "signup" for s in wanted) and not options.cluster:
                write_floor = run.measure_write_floor(copies, workers, workdir / "floor.log")
                _line("write floor", write_floor)
            with copies() as url, ExitStack() as stack:
                env = service_env(url, secrets.token_hex(32))
                if options.cluster:
                    running = stack.enter_context(cluster(ROOT, env, workdir))
                    base_url, masters = running.base_url, running.masters
                    warm_up(base_url, ["/", f"/events/{SIGNUP_EVENT}", "/api/v1/events"])
                else:
                    env |= workers
                    log = workdir / "eventreg.log"
                    served = stack.enter_context(gunicorn_process(ROOT, "wsgi:app", env, log, "/"))
                    base_url, masters = served[0], [served[1].pid]
                for scenario in wanted:
                    figures = run.measure_scenario(scenario, base_url, env, masters)
                    _line(scenario.key, figures, floor["rps"])
                if options.rush:
                    crowd = run.measure_rush(base_url, masters)
                    print(
                        f"{'rush':>14}: {crowd['signups_per_minute']:8,.0f} sign-ups/min"
                        f"  {crowd['cpu_ms_per_request']:6.2f} ms CPU"
                        f"  {crowd['confirmed']} confirmed, {crowd['waitlisted']} waiting",
                        flush=True,
                    )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _line(label: str, figures: dict, floor_rps: float | None = None) -> None:
    ratio = f"  {figures['rps'] / floor_rps:.2f} of the floor" if floor_rps else ""
    errors = figures.get("error_responses", 0)
    print(
        f"{label:>14}: {figures['rps']:8.1f} req/s  {figures['cpu_ms_per_request']:6.2f} ms CPU"
        f"{ratio}{f'  {errors} errors' if errors else ''}"
        f"{f'  {figures.get(ADMITTED)} admitted' if ADMITTED in figures else ''}",
        flush=True,
    )


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.probe", description=__doc__)
    parser.add_argument("scenarios", nargs="+", choices=KEYS)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--worker-class", choices=tuple(WORKER_SETUPS), default="sync")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rush", action="store_true", help="the rush too (2,000 sign-ups)")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="nginx in front of two app servers sharing Redis (PostgreSQL; --worker-class unused)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    main()
