"""Writing results.json (everything) and results.md (the same, for people)."""

import json
from pathlib import Path

from .machine import QUIET_SHARE
from .scenarios import GOALS, PLANNED, RUSH_GOAL_PER_MINUTE, SCENARIOS

BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def write(results: dict, out_dir: Path, findings: Path) -> None:
    """Write both files into ``out_dir``; the Markdown ends with the hand-written findings."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    notes = findings.read_text(encoding="utf-8") if findings.exists() else ""
    (out_dir / "results.md").write_text(markdown(results, notes), encoding="utf-8")


def goals_missed(results: dict) -> list[str]:
    """One line per goal that a measured figure misses, and per failed correctness check."""
    missed = []
    for setup in _measured(results):
        label = _label(setup)
        for key, figures in setup["scenarios"].items():
            if not figures["meets_goal"]:
                missed.append(
                    f"{label}: {figures['title']} at {figures['ratio']:.2f} of the floor "
                    f"(goal {figures['goal']:.2f})"
                )
            if figures["error_responses"] or figures["socket_errors"]:
                missed.append(f"{label}: {key} had failed requests")
        rush = setup["rush"]
        if not rush["exact"]:
            missed.append(f"{label}: the rush was not exact (see the rush table)")
        if rush["signups_per_minute"] <= RUSH_GOAL_PER_MINUTE:
            missed.append(
                f"{label}: the rush sustained {rush['signups_per_minute']:,} sign-ups a minute "
                f"(goal: well over {RUSH_GOAL_PER_MINUTE:,})"
            )
    for setup in results["setups"]:
        if "error" in setup:
            missed.append(f"{_label(setup)}: the run failed: {setup['error']}")
    missed += [f"the run failed: {failure}" for failure in results.get("failures", [])]
    for backend, measures in results["query_counts"].items():
        missed += [
            f"{BACKEND_NAMES[backend]}: {measure} issues more statements with more registrations"
            for measure, counts in measures.items()
            if not counts["equal"]
        ]
    return missed


def markdown(results: dict, findings: str) -> str:
    """The whole report."""
    sections = [
        _header(results),
        _throughput(results),
        _latency(results),
        _rush(results),
        _query_counts(results),
        _missed(results),
        _planned(),
    ]
    if findings.strip():
        sections.append(findings.strip() + "\n")
    return "\n".join(sections)


def _header(results: dict) -> str:
    meta, sizes = results["machine"], results["sizes"]
    packages = ", ".join(f"{name} {number}" for name, number in meta["packages"].items())
    postgres = meta["postgresql"] or "not run"
    commit = meta["commit"] or "unknown"
    if meta["uncommitted_app_changes"]:
        commit += " with uncommitted changes"
    warmup = f" after a {sizes['warmup_s']} s warm-up" if sizes["warmup_s"] else ""
    facts = [
        f"Machine: **{meta['nproc']} cores** (`nproc`), {meta['cpu']}.",
        f"Software: Python {meta['python']}, {packages}, SQLite {meta['sqlite']}, "
        f"PostgreSQL {postgres}, {meta['wrk']}.",
        f"App under test: commit {commit}.",
        f"Load: `wrk -t{sizes['wrk_threads']} -c{sizes['connections']}`, "
        f"{sizes['duration_s']} s per figure{warmup}, on loopback; wrk shares the cores with "
        "the server.",
        "gunicorn: `gunicorn --config gunicorn.conf.py`, sync = 2 workers, gthread = 2 workers "
        "× 4 threads; the floor (`bench/floor_app.py`) is served the same way, just before "
        "eventreg.",
        _limits(results["lifted_limits"]),
        *(f"Not measured: {reason}." for reason in results["skipped"]),
    ]
    return (
        "# eventreg benchmark results\n\n"
        f"Written by `bench/run` ({sizes['name']} run) on {meta['date']}; do not edit by hand: "
        "notes go in `bench/findings.md`, which is copied to the end of this file. See "
        "`bench/README.md`.\n\n" + "".join(f"- {fact}\n" for fact in facts)
    )


def _limits(lifted: dict[str, str]) -> str:
    if not lifted:
        return "Rate limits: none defined."
    names = ", ".join(f"`EVENTREG_{name}`" for name in lifted)
    value = next(iter(lifted.values()))
    return (
        f"Rate limits stay on but out of reach ({names} = `{value}`): wrk and the rush send "
        "from one address, a real rush comes from many."
    )


def _throughput(results: dict) -> str:
    setups = _measured(results)
    rows = [["framework floor: GET /hello", ""] + [f"{s['floor']['rps']:,.0f}" for s in setups]]
    for scenario in SCENARIOS:
        cells = [_throughput_cell(s["scenarios"].get(scenario.key)) for s in setups]
        rows.append([scenario.title, f"≥ {GOALS[scenario.kind]:.2f}", *cells])
    rows.append(["CPUs busy with other work, before / after", "", *map(_busy_cell, setups)])
    intro = (
        "## Throughput against the framework floor\n\n"
        "Requests a second, and the ratio to the floor of the same set-up "
        "(✓ meets the goal, ✗ misses it). The last row is a noise check: how busy other "
        "processes kept the CPUs in the second before the set-up started (the harness waits "
        f"up to {results['sizes']['quiet_wait_s']} s for less than {QUIET_SHARE:.0%}) and in "
        "the second after it ended; ⚠ marks figures that other work probably understated.\n"
    )
    return intro + "\n" + _table(["scenario", "goal", *map(_label, setups)], rows)


def _throughput_cell(figures: dict | None) -> str:
    if figures is None:  # results of a run before the scenario existed (--report-only)
        return "not measured"
    mark = "✓" if figures["meets_goal"] else "✗"
    failed = figures["error_responses"] + figures["socket_errors"]
    warning = f", **{failed} failed**" if failed else ""
    return f"{figures['rps']:,.0f} ({figures['ratio']:.2f} {mark}{warning})"


def _busy_cell(setup: dict) -> str:
    if None in setup["cpu_busy"]:
        return "not checked"
    before, after = setup["cpu_busy"]
    return f"{before:.0%} / {after:.0%}" + (" ⚠" if max(before, after) > QUIET_SHARE else "")


def _latency(results: dict) -> str:
    setups = _measured(results)
    rows = [["framework floor: GET /hello", *(_latency_cell(s["floor"]) for s in setups)]]
    rows += [
        [scenario.title, *(_latency_cell(s["scenarios"].get(scenario.key)) for s in setups)]
        for scenario in SCENARIOS
    ]
    header = "### Latency under that load (ms, p50 / p99)\n\n"
    return header + _table(["scenario", *map(_label, setups)], rows)


def _latency_cell(figures: dict | None) -> str:
    if figures is None:
        return "not measured"
    return f"{figures['p50_ms']:.1f} / {figures['p99_ms']:.1f}"


def _rush(results: dict) -> str:
    setups = _measured(results)
    if not setups:
        return ""
    sizes = results["sizes"]
    rows = [_rush_row(setup) for setup in setups]
    intro = (
        f"## The rush\n\n{sizes['rush_requests']:,} sign-ups through the API for one event "
        f"with {sizes['rush_seats']:,} seats, from {sizes['rush_concurrency']} connections at "
        f"once. Exact means: every seat taken once, everyone else waitlisted, no 5xx, no "
        f'"database is locked" in the gunicorn log, and the API agrees afterwards. '
        f"Goal: well over {RUSH_GOAL_PER_MINUTE:,} sign-ups a minute.\n"
    )
    columns = ["set-up", "confirmed", "waitlisted", "5xx", "other", "locked", "p50 ms"]
    columns += ["p95 ms", "p99 ms", "sign-ups/min", "exact"]
    return intro + "\n" + _table(columns, rows)


def _rush_row(setup: dict) -> list[str]:
    rush = setup["rush"]
    other = sum(rush["other_answers"].values())
    return [
        _label(setup),
        str(rush["confirmed"]),
        str(rush["waitlisted"]),
        str(rush["server_errors"]),
        str(other),
        str(rush["database_locked"]),
        f"{rush['p50_ms']:.0f}",
        f"{rush['p95_ms']:.0f}",
        f"{rush['p99_ms']:.0f}",
        f"{rush['signups_per_minute']:,}",
        "✓" if rush["exact"] else "✗",
    ]


def _query_counts(results: dict) -> str:
    small, large = (str(size) for size in results["sizes"]["query_sizes"])
    rows = [
        [
            measure,
            BACKEND_NAMES[backend],
            str(counts["statements"][small]),
            str(counts["statements"][large]),
            "✓" if counts["equal"] else "✗",
        ]
        for backend, measures in results["query_counts"].items()
        for measure, counts in measures.items()
    ]
    intro = (
        "## Query counts (no N+1)\n\nSQL statements for one request (or one promotion) with "
        f"{int(small):,} and {int(large):,} registrations; they must be equal.\n"
    )
    columns = ["measure", "database", f"{int(small):,}", f"{int(large):,}", "equal"]
    return intro + "\n" + _table(columns, rows)


def _missed(results: dict) -> str:
    missed = goals_missed(results)
    lines = [f"- {line}" for line in missed] or ["- None."]
    return "## Goals missed\n\n" + "\n".join(lines) + "\n"


def _planned() -> str:
    lines = [f"- **{item.key}**: {item.what} (waits on {item.waits_on})." for item in PLANNED]
    return "## Not measured yet\n\n" + "\n".join(lines) + "\n"


def _measured(results: dict) -> list[dict]:
    return [setup for setup in results["setups"] if "error" not in setup]


def _label(setup: dict) -> str:
    return f"{BACKEND_NAMES[setup['backend']]} · {setup['worker_class']}"


def _table(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
