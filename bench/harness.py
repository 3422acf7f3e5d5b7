"""The one command: floor and eventreg under gunicorn, loaded by wrk, per database and worker."""

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from shutil import which

from . import client, machine, report
from .cluster import cluster
from .databases import Copies, postgres_version, prepared_databases, write_bench_programme
from .exports import measure_exports
from .mail import confirmations_after_rush, mail_off_request_path, ticket_cost
from .queries import count_queries
from .rush import is_exact, rush
from .scenarios import SCENARIOS, Scenario, checked_in
from .server import (
    UNREACHABLE_LIMIT,
    gunicorn_process,
    rate_limit_settings,
    service_env,
    worker_cpu_seconds,
)
from .settings import (
    BACKENDS,
    CLUSTER_SETUP,
    FULL,
    QUICK,
    RUSH_EVENT,
    SIGNUP_EVENT,
    WORKER_SETUPS,
    Sizes,
)
from .wrk import run_wrk, wrk_version

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def main(argv: list[str] | None = None) -> int:
    """Run everything, write the results; non-zero when a run failed or the rush was not exact."""
    options = _parse(argv)
    if options.report_only:
        results = json.loads((options.out / "results.json").read_text(encoding="utf-8"))
        report.write(results, options.out, BENCH / "findings.md")
        return 0
    wrk = wrk_version()
    if wrk is None:
        print("bench/run: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    sizes = QUICK if options.quick else FULL
    postgres_url = os.environ.get("EVENTREG_TEST_POSTGRES_URL")
    if "postgresql" not in options.backends:
        postgres_url = None
    workdir = Path(tempfile.mkdtemp(prefix="eventreg-bench-"))
    programme = write_bench_programme(workdir / "bench-programme.toml", sizes.rush_seats)
    run = Run(sizes, workdir)
    results = _new_results(sizes, wrk, postgres_url)
    for backend in options.backends:
        if backend == "postgresql" and not postgres_url:
            results["skipped"].append("PostgreSQL (no server; install the postgresql package)")
            continue
        try:
            with prepared_databases(backend, workdir, postgres_url, ROOT, programme) as copies:
                for worker_class in options.worker_classes:
                    results["setups"].append(run.setup(copies, backend, worker_class))
                if backend == "postgresql" and options.cluster:
                    if missing := [name for name in ("redis-server", "nginx") if not which(name)]:
                        results["skipped"].append(f"{CLUSTER_SETUP} ({', '.join(missing)} missing)")
                    else:
                        results["setups"].append(run.setup(copies, backend, CLUSTER_SETUP))
                results["query_counts"][backend] = run.query_counts(copies, backend)
                results["exports"][backend] = run.exports(copies, backend)
                results["ticket_cost"][backend] = run.ticket_cost(copies, backend)
                results["confirmations"][backend] = run.confirmations(copies, backend)
        except Exception as exc:  # keep what the other database measured
            traceback.print_exc()
            results["failures"].append(f"{backend}: {type(exc).__name__}: {exc}")
    report.write(results, options.out, BENCH / "findings.md")
    return _finish(results, options.out, workdir)


@dataclass
class Run:
    """One harness run: its sizes and its scratch folder (databases and logs)."""

    sizes: Sizes
    workdir: Path

    def setup(self, copies: Copies, backend: str, worker_class: str) -> dict:
        """Floor, scenarios and rush for one database and one kind of worker."""
        _say(f"{backend} · {worker_class}")
        labels = {"backend": backend, "worker_class": worker_class}
        checks_noise = bool(self.sizes.quiet_wait_s)
        busy_before = machine.wait_until_quiet(self.sizes.quiet_wait_s) if checks_noise else None
        try:
            figures = self._measure(copies, backend, worker_class)
        except Exception as exc:  # one broken set-up must not lose the others' figures
            traceback.print_exc()
            figures = {"error": f"{type(exc).__name__}: {exc}"}
        busy_after = machine.busy_share() if checks_noise else None
        return labels | {"cpu_busy": [busy_before, busy_after]} | figures

    def query_counts(self, copies: Copies, backend: str) -> dict:
        """Statements per request with a small and a large database."""
        _say(f"{backend} · query counts")
        return count_queries(copies, self.sizes.query_sizes)

    def exports(self, copies: Copies, backend: str) -> dict:
        """CSV, XLSX and PDF downloads of a small and a large event against a plain dump."""
        _say(f"{backend} · exports of {' and '.join(map(str, self.sizes.export_sizes))} rows")
        service = service_env("", secrets.token_hex(32))
        return measure_exports(copies, service, self.sizes.export_sizes, ROOT, self.workdir)

    def ticket_cost(self, copies: Copies, backend: str) -> dict:
        """Building a confirmation with its ticket; sending with and without connection reuse."""
        _say(f"{backend} · ticket cost")
        return ticket_cost(copies, self.sizes.ticket_messages)

    def confirmations(self, copies: Copies, backend: str) -> dict:
        """The rush's sign-ups all confirmed, and the time until their last e-mail is sent."""
        _say(f"{backend} · confirmations after a rush of {self.sizes.rush_requests:,} sign-ups")
        service = service_env("", secrets.token_hex(32))
        return confirmations_after_rush(copies, service, self.sizes, ROOT, self.workdir, backend)

    def _measure(self, copies: Copies, backend: str, worker_class: str) -> dict:
        if worker_class == CLUSTER_SETUP:
            return self._measure_cluster(copies, backend)
        workers = WORKER_SETUPS[worker_class]
        floor_log = self.workdir / f"floor-{backend}-{worker_class}.log"
        floor_before = self.measure_floor(workers, floor_log)
        write_floor = self.measure_write_floor(copies, workers, floor_log)
        log = self.workdir / f"eventreg-{backend}-{worker_class}.log"
        with copies() as url:
            env = workers | service_env(url, secrets.token_hex(32))
            with gunicorn_process(ROOT, "wsgi:app", env, log, "/") as (base_url, master):
                masters = [master.pid]
                measured = {
                    s.key: self.measure_scenario(s, base_url, env, masters) for s in SCENARIOS
                }
                _say("  the rush")
                crowd = self.measure_rush(base_url, masters)
        crowd["database_locked"] = log.read_text(errors="replace").count("database is locked")
        crowd["exact"] = is_exact(crowd)
        floor = self._higher_floor(floor_before, self.measure_floor(workers, floor_log))
        scenarios = {s.key: _against_floor(measured[s.key], s, floor["rps"]) for s in SCENARIOS}
        _say("  sign-ups next to the mail sender, SMTP instant and stalling")
        label = f"{backend}-{worker_class}"
        mail = mail_off_request_path(copies, env, self.sizes, ROOT, self.workdir, label)
        return {
            "floor": floor,
            "write_floor": write_floor,
            "scenarios": scenarios,
            "rush": crowd,
            "mail": mail,
        }

    def _measure_cluster(self, copies: Copies, backend: str) -> dict:
        """Floor, scenarios and rush through nginx in front of two app servers sharing Redis.

        The floor is the minimal app behind the same nginx and gunicorns; no mail measurement
        (the single-machine set-ups have it).
        """
        floor_before = self.cluster_floor()
        folder = self._folder(f"cluster-{backend}")
        with copies() as url:
            env = service_env(url, secrets.token_hex(32))
            with cluster(ROOT, env, folder) as running:
                base_url = running.base_url
                warm_up(base_url, ["/", f"/events/{SIGNUP_EVENT}", "/api/v1/events"])
                masters = running.masters
                measured = {
                    s.key: self.measure_scenario(s, base_url, env, masters) for s in SCENARIOS
                }
                _say("  the rush")
                crowd = self.measure_rush(base_url, masters)
        logs = "".join(log.read_text(errors="replace") for log in folder.glob("app-*.log"))
        crowd["database_locked"] = logs.count("database is locked")
        crowd["exact"] = is_exact(crowd)
        floor = self._higher_floor(floor_before, self.cluster_floor())
        scenarios = {s.key: _against_floor(measured[s.key], s, floor["rps"]) for s in SCENARIOS}
        return {"floor": floor, "scenarios": scenarios, "rush": crowd}

    def cluster_floor(self) -> dict:
        _say("  floor (behind nginx)")
        folder = self._folder("cluster-floor")
        with cluster(ROOT, {}, folder, app="bench.floor_app:app", ready_path="/hello") as running:
            warm_up(running.base_url, ["/hello"])
            url = f"{running.base_url}/hello"
            return self._load(url, "common.lua", lambda prefix: [], running.masters)

    def _folder(self, label: str) -> Path:
        """A new scratch folder for one topology's logs."""
        return Path(tempfile.mkdtemp(prefix=f"{label}-", dir=self.workdir))

    def measure_floor(self, workers: dict[str, str], log: Path) -> dict:
        """The minimal Flask app's throughput under the same gunicorn settings."""
        _say("  floor")
        with gunicorn_process(ROOT, "bench.floor_app:app", workers, log, "/hello") as served:
            base_url, master = served
            return self._load(f"{base_url}/hello", "common.lua", lambda prefix: [], [master.pid])

    def measure_write_floor(self, copies: Copies, workers: dict[str, str], log: Path) -> dict:
        """An API sign-up's SQL statements through the DB-API from a bare view (write_floor.py)."""
        _say("  write floor")
        path = f"/api/v1/events/{SIGNUP_EVENT}/registrations"
        with copies() as url:
            env = workers | {"EVENTREG_SQLALCHEMY_DATABASE_URI": url}
            with gunicorn_process(ROOT, "bench.write_floor:app", env, log, "/healthz") as served:
                base_url, master = served
                return self._load(base_url + path, "signup_api.lua", lambda p: [p], [master.pid])

    @staticmethod
    def _higher_floor(before: dict, after: dict) -> dict:
        """The floor is measured before and after the scenarios; the higher run counts.

        One floor run once came out at a third of the others on a quiet machine; the lower
        run would have flattered every ratio of its set-up.
        """
        higher = max(before, after, key=lambda figures: figures["rps"])
        return higher | {"runs_rps": [before["rps"], after["rps"]]}

    def measure_scenario(
        self, scenario: Scenario, base_url: str, env: dict[str, str], masters: list[int]
    ) -> dict:
        _say(f"  {scenario.title}")
        figures = self._load(
            base_url + scenario.path,
            scenario.script,
            lambda prefix: scenario.script_args(base_url, prefix, env),
            masters,
        )
        if scenario.kind == "checkin":  # scans that admitted someone, not only refusals
            figures["checked_in"] = checked_in(env)
        return figures

    def _load(self, url: str, script: str, script_args, masters: list[int]) -> dict:
        """A discarded warm-up, then the measured wrk run; each with fresh script arguments.

        The workers' CPU time is read around the measured run: CPU per request.
        """
        if self.sizes.warmup_s:
            run_wrk(url, script, script_args(_prefix("warmup")), self.sizes, self.sizes.warmup_s)
        arguments = script_args(_prefix("load"))  # before the CPU count: the harness's own work
        before = worker_cpu_seconds(masters)
        figures = run_wrk(url, script, arguments, self.sizes, self.sizes.duration_s)
        return figures | _cpu_per_request(worker_cpu_seconds(masters) - before, figures["requests"])

    def measure_rush(self, base_url: str, masters: list[int]) -> dict:
        """The rush, with the workers' CPU per sign-up."""
        before = worker_cpu_seconds(masters)
        crowd = rush(base_url, RUSH_EVENT, *self._rush_sizes())
        return crowd | _cpu_per_request(worker_cpu_seconds(masters) - before, crowd["requests"])

    def _rush_sizes(self) -> tuple[int, int, int]:
        sizes = self.sizes
        return sizes.rush_requests, sizes.rush_seats, sizes.rush_concurrency


def warm_up(base_url: str, paths: list[str], rounds: int = 4) -> None:
    """Each of the four workers behind nginx answers every page once before wrk counts.

    A single-machine set-up's two workers warm up within wrk's first second; four workers,
    each rendering its first programme page cold, would otherwise cost the quick run's
    one-second figures most of their requests.
    """
    for _ in range(rounds):
        for path in paths:
            client.get(base_url, path)


def _cpu_per_request(cpu_seconds: float, requests: int) -> dict:
    per_request = cpu_seconds * 1000 / requests if requests else 0.0
    return {"cpu_s": round(cpu_seconds, 2), "cpu_ms_per_request": round(per_request, 3)}


def _against_floor(figures: dict, scenario: Scenario, floor_rps: float) -> dict:
    ratio = figures["rps"] / floor_rps
    return figures | {
        "title": scenario.title,
        "kind": scenario.kind,
        "ratio": round(ratio, 3),
        "goal": scenario.goal,
        "meets_goal": ratio >= scenario.goal,
    }


def _new_results(sizes: Sizes, wrk: str, postgres_url: str | None) -> dict:
    postgres = postgres_version(postgres_url) if postgres_url else None
    return {
        "machine": machine.describe(ROOT, wrk, postgres),
        "sizes": asdict(sizes),
        "lifted_limits": {name: UNREACHABLE_LIMIT for name in rate_limit_settings()},
        "setups": [],
        "query_counts": {},
        "exports": {},
        "ticket_cost": {},
        "confirmations": {},
        "skipped": [],
        "failures": [],
    }


def _finish(results: dict, out: Path, workdir: Path) -> int:
    """Print what was missed; keep the logs when something failed, else clean up."""
    missed = report.goals_missed(results)
    print(f"bench/run: wrote {out / 'results.md'} and {out / 'results.json'}")
    for line in missed:
        print(f"  missed: {line}")
    failed = [s for s in results["setups"] if "error" in s or not s["rush"]["exact"]]
    if failed or results["failures"]:
        print(f"bench/run: something failed; gunicorn logs kept in {workdir}", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _prefix(label: str) -> str:
    """A prefix for e-mail addresses that no other wrk run of this database uses."""
    return f"{label}-{secrets.token_hex(4)}"


def _say(message: str) -> None:
    print(message, flush=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: rewrite results.md from results.json (after editing findings.md)",
    )
    parser.add_argument(
        "--out", type=Path, default=BENCH, help="where results.md and .json go (default: bench/)"
    )
    parser.add_argument(
        "--backends", type=_choices(BACKENDS), default=list(BACKENDS), help="comma-separated"
    )
    parser.add_argument(
        "--no-cluster",
        dest="cluster",
        action="store_false",
        help=f"skip the {CLUSTER_SETUP} set-up (PostgreSQL only)",
    )
    parser.add_argument(
        "--worker-classes",
        type=_choices(tuple(WORKER_SETUPS)),
        default=list(WORKER_SETUPS),
        help="comma-separated",
    )
    return parser.parse_args(argv)


def _choices(allowed: tuple[str, ...]):
    def parse(value: str) -> list[str]:
        picked = [item.strip() for item in value.split(",") if item.strip()]
        unknown = set(picked) - set(allowed)
        if unknown or not picked:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
        return picked

    return parse
