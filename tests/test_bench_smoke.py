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

from bench.queries import SIGNUP
from bench.report import markdown
from bench.scenarios import SCENARIOS
from bench.settings import CLUSTER_SETUP, QUICK, WORKER_SETUPS
from bench.write_floor import SIGNUP_STATEMENTS

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
POSTGRES_URL = os.environ.get("EVENTREG_TEST_POSTGRES_URL")
FIGURES = ("rps", "ratio", "p50_ms", "p99_ms", "cpu_ms_per_request")


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
        timeout=600,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert (out / "results.md").read_text().startswith("# eventreg benchmark results")
    return json.loads((out / "results.json").read_text())


def test_every_set_up_ran_on_each_database(quick_results):
    ran = {(setup["backend"], setup["worker_class"]) for setup in quick_results["setups"]}
    backends = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
    expected = {(backend, worker) for backend in backends for worker in ("sync", "gthread")}
    # nginx + two app servers + Redis, beside the single-machine set-ups (.ci/run installs them)
    expected |= {("postgresql", CLUSTER_SETUP)} if POSTGRES_URL else set()
    assert ran == expected
    assert quick_results["machine"]["nproc"] >= 1


def test_every_scenario_has_figures_against_the_floor(quick_results):
    for setup in quick_results["setups"]:
        assert setup["floor"]["rps"] > 0
        assert set(setup["scenarios"]) == {scenario.key for scenario in SCENARIOS}
        assert setup["scenarios"]["checkin"]["kind"] == "checkin"  # scans of filled seats
        assert setup["scenarios"]["checkin"]["checked_in"] > 0  # admissions, not refusals only
        for figures in setup["scenarios"].values():
            assert all(figures[name] > 0 for name in FIGURES), figures
            assert figures["error_responses"] == figures["socket_errors"] == 0, figures


def test_cpu_per_request_is_measured_for_the_floors_and_the_rush(quick_results):
    for setup in quick_results["setups"]:
        assert setup["floor"]["cpu_ms_per_request"] > 0
        assert setup["rush"]["cpu_ms_per_request"] > 0
        if setup["worker_class"] in WORKER_SETUPS:  # the write floor: single-machine set-ups
            write_floor = setup["write_floor"]
            assert write_floor["cpu_ms_per_request"] > 0 and write_floor["requests"] > 0
            assert write_floor["error_responses"] == write_floor["socket_errors"] == 0
    assert "### CPU per request" in markdown(quick_results, "")


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
        assert {"GET /admin/events/bench-signup", "waiting-list promotion (cancel a seat)"} <= set(
            measures
        )
        for counts in measures.values():
            assert set(counts["statements"]) == sizes
            assert all(count > 0 for count in counts["statements"].values())


def test_the_write_floor_sends_as_many_statements_as_an_api_sign_up(quick_results):
    # bench/write_floor.py replays an API sign-up's statements: the app's count is its check.
    for measures in quick_results["query_counts"].values():
        for count in measures[SIGNUP]["statements"].values():
            assert count == SIGNUP_STATEMENTS


def test_sign_ups_are_measured_next_to_a_stalling_mail_server(quick_results):
    single_machine = [s for s in quick_results["setups"] if s["worker_class"] in WORKER_SETUPS]
    assert single_machine
    for setup in single_machine:
        mail = setup["mail"]
        assert mail["instant"]["stall_s"] == 0 and mail["stalling"]["stall_s"] == 2
        for run in (mail["instant"], mail["stalling"]):
            assert run["requests"] > 0 and run["p95_ms"] > 0
            assert run["error_responses"] == run["socket_errors"] == 0
            assert run["queued"] >= run["requests"]  # every sign-up queued its confirmation
        assert mail["p95_ratio"] > 0


def test_exports_are_timed_against_a_dump_of_the_same_rows(quick_results):
    assert set(quick_results["exports"]) == set(quick_results["query_counts"])
    for exports in quick_results["exports"].values():
        assert exports["sizes"] == list(QUICK.export_sizes)
        for size in QUICK.export_sizes:
            figures = exports["by_size"][str(size)]
            assert figures["dump"]["bytes"] > 0 and figures["dump"]["seconds"] > 0
            downloads = figures["downloads"]
            assert set(downloads) == {"csv", "xlsx", "pdf"}
            for download in downloads.values():
                assert download["bytes"] > 0 and download["ratio_to_dump"] > 0
                assert download["peak_rss_kib"] >= download["rss_before_kib"] > 0
        # The CSV download holds the dump's rows and header: about as many bytes, not fewer.
        large = exports["by_size"][str(QUICK.export_sizes[-1])]
        assert large["downloads"]["csv"]["bytes"] >= large["dump"]["bytes"]


def test_every_confirmation_after_a_rush_is_sent_and_timed(quick_results):
    for after in quick_results["confirmations"].values():
        assert after["sign_ups"] == after["confirmed"] == after["delivered"] == QUICK.rush_requests
        assert after["last_delivery_after_last_sign_up_s"] >= 0
        assert after["messages_per_s"] > 0 and after["sender_cpu_ms_per_message"] > 0


def test_ticket_cost_is_measured_with_and_without_connection_reuse(quick_results):
    for cost in quick_results["ticket_cost"].values():
        assert cost["messages"] == QUICK.ticket_messages
        assert cost["build_ms"]["mean"] > 0
        assert cost["send_per_s"]["reused_connection"] > 0
        assert cost["send_per_s"]["per_message"] > 0
