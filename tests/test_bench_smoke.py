"""The benchmark harness still runs end to end (tiny sizes), so that it cannot rot.

Benchmarks never gate CI; this only checks that ``bench/run --quick`` measures every scenario
and that the rush stays exact. CI installs wrk; without it the test fails there, and is
skipped on a developer's machine.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.scenarios import SCENARIOS
from bench.settings import QUICK

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
POSTGRES_URL = os.environ.get("EVENTREG_TEST_POSTGRES_URL")
FIGURES = ("rps", "ratio", "p50_ms", "p99_ms")


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    """Results of one quick run on SQLite, and on PostgreSQL when scripts/test started it."""
    if shutil.which("wrk") is None:
        if IN_CI:
            pytest.fail("CI=true but wrk is not installed (apt-get install wrk)")
        pytest.skip("wrk is not installed (apt-get install wrk); CI runs this test")
    out = tmp_path_factory.mktemp("bench")
    backends = "sqlite,postgresql" if POSTGRES_URL else "sqlite"
    finished = subprocess.run(
        [ROOT / "bench" / "run", "--quick", "--out", str(out), "--backends", backends],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert (out / "results.md").read_text().startswith("# eventreg benchmark results")
    return json.loads((out / "results.json").read_text())


def test_every_set_up_ran_on_each_database(quick_results):
    ran = {(setup["backend"], setup["worker_class"]) for setup in quick_results["setups"]}
    backends = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
    assert ran == {(backend, worker) for backend in backends for worker in ("sync", "gthread")}
    assert quick_results["machine"]["nproc"] >= 1


def test_every_scenario_has_figures_against_the_floor(quick_results):
    for setup in quick_results["setups"]:
        assert setup["floor"]["rps"] > 0
        assert set(setup["scenarios"]) == {scenario.key for scenario in SCENARIOS}
        assert setup["scenarios"]["checkin"]["kind"] == "checkin"  # scans of filled seats
        for figures in setup["scenarios"].values():
            assert all(figures[name] > 0 for name in FIGURES), figures
            assert figures["error_responses"] == figures["socket_errors"] == 0, figures


def test_the_rush_seats_exactly_as_many_as_there_are(quick_results):
    queued = QUICK.rush_requests - QUICK.rush_seats
    for setup in quick_results["setups"]:
        rush = setup["rush"]
        assert (rush["confirmed"], rush["waitlisted"]) == (QUICK.rush_seats, queued)
        assert rush["server_errors"] == rush["database_locked"] == 0
        assert rush["other_answers"] == {}
        assert rush["event_after"] == {"seats_left": 0, "waitlist_length": queued}
        assert rush["signups_per_minute"] > 0


def test_query_counts_are_taken_for_both_sizes(quick_results):
    sizes = {str(size) for size in QUICK.query_sizes}
    for measures in quick_results["query_counts"].values():
        for counts in measures.values():
            assert set(counts["statements"]) == sizes
            assert all(count > 0 for count in counts["statements"].values())
