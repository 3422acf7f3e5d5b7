"""Writing results.json (everything) and results.md (the same, for people)."""

import json
from pathlib import Path

from .exports import FLAT_MIB
from .machine import QUIET_SHARE
from .scenarios import (
    CHECKIN_CPU_MS_GOAL,
    GOALS,
    RUSH_GOAL_PER_MINUTE,
    SCENARIOS,
    WRITE_FLOOR_GOALS,
)

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
            if not _meets_goal(figures):
                missed.append(
                    f"{label}: {figures['title']} at {figures['ratio']:.2f} of the floor "
                    f"(goal {GOALS[figures['kind']]:.2f})"
                )
            if figures["error_responses"] or figures["socket_errors"]:
                missed.append(f"{label}: {key} had failed requests")
        missed += [f"{label}: {line}" for line in _cpu_goals_missed(setup)]
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
    for setup in _measured(results):
        mail = setup.get("mail")
        if mail and not mail["meets_goal"]:
            missed.append(
                f"{_label(setup)}: sign-up p95 with a stalling SMTP server at "
                f"{mail['p95_ratio']:.2f}x the instant one's (goal {mail['goal']:.1f}x)"
            )
    for backend, after in results.get("confirmations", {}).items():
        if not after["meets_goal"]:
            missed.append(
                f"{BACKEND_NAMES[backend]}: {after['delivered']:,} of {after['sign_ups']:,} "
                f"confirmations sent, the last {after['last_delivery_after_last_sign_up_s']:.0f} s "
                f"after the last sign-up (goal: all within {after['goal_s']} s)"
            )
    for backend, exports in results.get("exports", {}).items():
        name = BACKEND_NAMES[backend]
        if not exports["csv_meets_goal"]:
            missed.append(
                f"{name}: CSV export of {exports['sizes'][-1]:,} rows at "
                f"{exports['csv_ratio']:.1f}x the dump (goal {exports['csv_goal']:.0f}x)"
            )
        missed += [
            f"{name}: {kind.upper()} export memory is not flat "
            f"(peak +{exports['peak_growth_mib'][kind]:.0f} MiB for ten times the rows)"
            for kind, flat in exports["flat"].items()
            if not flat
        ]
    return missed


def markdown(results: dict, findings: str) -> str:
    """The whole report."""
    sections = [
        _header(results),
        _throughput(results),
        _cpu(results),
        _latency(results),
        _rush(results),
        _mail(results),
        _exports(results),
        _ticket_cost(results),
        _confirmations(results),
        _query_counts(results),
        _missed(results),
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
        "eventreg and again after its scenarios; the higher of the two runs counts.",
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
    mark = "✓" if _meets_goal(figures) else "✗"
    failed = figures["error_responses"] + figures["socket_errors"]
    warning = f", **{failed} failed**" if failed else ""
    return f"{figures['rps']:,.0f} ({figures['ratio']:.2f} {mark}{warning})"


def _meets_goal(figures: dict) -> bool:
    """Judged against today's goals, so that --report-only follows a goal changed since the run."""
    return figures["ratio"] >= GOALS[figures["kind"]]


def _busy_cell(setup: dict) -> str:
    if None in setup["cpu_busy"]:
        return "not checked"
    before, after = setup["cpu_busy"]
    return f"{before:.0%} / {after:.0%}" + (" ⚠" if max(before, after) > QUIET_SHARE else "")


def _cpu_goals_missed(setup: dict) -> list[str]:
    missed = []
    for key, goal in WRITE_FLOOR_GOALS.items():
        ratio = _to_write_floor(setup, key)
        if ratio is not None and ratio > goal:
            title = setup["scenarios"][key]["title"]
            missed.append(f"{title} at {ratio:.1f}x the write floor's CPU (goal {goal:.0f}x)")
    checkin = setup["scenarios"].get("checkin", {}).get("cpu_ms_per_request")
    if checkin is not None and checkin > CHECKIN_CPU_MS_GOAL:
        missed.append(f"check-in at {checkin:.2f} ms of CPU a scan (goal {CHECKIN_CPU_MS_GOAL})")
    return missed


def _to_write_floor(setup: dict, key: str) -> float | None:
    """A scenario's CPU per request as a multiple of the write floor's, when both were measured."""
    write_floor = setup.get("write_floor", {}).get("cpu_ms_per_request")
    scenario = setup["scenarios"].get(key, {}).get("cpu_ms_per_request")
    if key not in WRITE_FLOOR_GOALS or not write_floor or scenario is None:
        return None
    return scenario / write_floor


def _cpu(results: dict) -> str:
    setups = _measured(results)
    floors = [("framework floor: GET /hello", "floor"), ("write floor", "write_floor")]
    rows = [[title, "", *(_cpu_cell(s.get(key)) for s in setups)] for title, key in floors]
    for scenario in SCENARIOS:
        goal = ""
        if scenario.key in WRITE_FLOOR_GOALS:
            goal = f"≤ {WRITE_FLOOR_GOALS[scenario.key]:.0f}x write floor"
        elif scenario.key == "checkin":
            goal = f"≤ {CHECKIN_CPU_MS_GOAL} ms"
        cells = [_scenario_cpu_cell(s, scenario.key) for s in setups]
        rows.append([scenario.title, goal, *cells])
    rows.append(["the rush (per sign-up)", "", *(_cpu_cell(s["rush"]) for s in setups)])
    intro = (
        "### CPU per request\n\n"
        "Milliseconds of CPU the gunicorn workers spent per request: their user + system time "
        "from `/proc/<pid>/stat`, read before and after the measured wrk run, divided by the "
        "requests served (the app's own cost; wrk, nginx, Redis and the database server are "
        "not counted). Other work on the machine slows req/s far more than it changes these. "
        "The **write floor** (`bench/write_floor.py`) sends an API sign-up's SQL statements "
        "through the DB-API from a bare Flask view, on a fresh copy of the database, loaded "
        "like the API sign-ups: what the database and the driver cost a sign-up. Sign-ups are "
        "also given as a multiple of it (✓ meets the goal, ✗ misses it).\n"
    )
    return intro + "\n" + _table(["scenario", "goal", *map(_label, setups)], rows)


def _cpu_cell(figures: dict | None) -> str:
    if not figures or "cpu_ms_per_request" not in figures:
        return "not measured"
    return f"{figures['cpu_ms_per_request']:.2f}"


def _scenario_cpu_cell(setup: dict, key: str) -> str:
    figures = setup["scenarios"].get(key)
    cell = _cpu_cell(figures)
    ratio = _to_write_floor(setup, key)
    if ratio is not None:
        mark = "✓" if ratio <= WRITE_FLOOR_GOALS[key] else "✗"
        cell += f" ({ratio:.1f}x {mark})"
    elif key == "checkin" and figures and "cpu_ms_per_request" in figures:
        cell += " ✓" if figures["cpu_ms_per_request"] <= CHECKIN_CPU_MS_GOAL else " ✗"
    return cell


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


def _mail(results: dict) -> str:
    setups = [setup for setup in _measured(results) if "mail" in setup]
    if not setups:
        return ""
    rows = []
    for setup in setups:
        mail = setup["mail"]
        instant, stalling = mail["instant"], mail["stalling"]
        rows.append(
            [
                _label(setup),
                f"{instant['rps']:,.0f}",
                f"{instant['p50_ms']:.0f} / {instant['p95_ms']:.0f}",
                f"{stalling['rps']:,.0f}",
                f"{stalling['p50_ms']:.0f} / {stalling['p95_ms']:.0f}",
                f"{mail['p95_ratio']:.2f} {'✓' if mail['meets_goal'] else '✗'}",
                f"{instant['delivered_during_load']:,} / {stalling['delivered_during_load']:,}",
            ]
        )
    stall = setups[0]["mail"]["stalling"]["stall_s"]
    intro = (
        "## Mail off the request path\n\nAPI sign-ups (wrk, as above) while `flask mail worker` "
        "delivers to a real SMTP server on loopback (aiosmtpd): one that accepts at once, and "
        f"one that stalls {stall:.0f} s on every message; each on a fresh copy of the "
        "database. Goal: the stalling server's p95 within "
        f"{setups[0]['mail']['goal']:.1f}x the instant one's.\n"
    )
    columns = ["set-up", "instant: req/s", "p50 / p95 ms", "stalling: req/s", "p50 / p95 ms"]
    columns += ["p95 ratio", "delivered during the load (instant / stalling)"]
    return intro + "\n" + _table(columns, rows)


def _exports(results: dict) -> str:
    measured = results.get("exports", {})
    if not measured:
        return ""
    rows = []
    for backend, exports in measured.items():
        for size in exports["sizes"]:
            figures = exports["by_size"][str(size)]
            dump = figures["dump"]
            cells = [
                f"{d['seconds']:.2f} s ({d['ratio_to_dump']:.1f}x), "
                f"{d['peak_rss_kib'] / 1024:.0f} MiB"
                for d in figures["downloads"].values()
            ]
            rows.append([BACKEND_NAMES[backend], f"{size:,}", f"{dump['seconds']:.2f} s", *cells])
        growth = exports["peak_growth_mib"]
        rows.append(
            [
                BACKEND_NAMES[backend],
                "peak growth",
                "",
                *(
                    f"+{growth[kind]:.0f} MiB {'✓ flat' if flat else '✗ not flat'}"
                    for kind, flat in exports["flat"].items()
                ),
            ]
        )
    first = next(iter(measured.values()))
    intro = (
        "## Exports\n\nOne in-person event's registrations downloaded by an organiser (bearer "
        "token) from gunicorn with one sync worker, started afresh for each download; time to "
        "the last byte, as a multiple of a plain dump of the same query by the database's own "
        "client (`sqlite3 -csv`, `psql \\copy ... csv`), and the worker's peak resident "
        f"memory. Goals: CSV within {first['csv_goal']:.0f}x the dump; memory flat (peak growth "
        f"from {first['sizes'][0]:,} to {first['sizes'][-1]:,} rows within "
        f"{FLAT_MIB} MiB).\n"
    )
    columns = ["database", "rows", "dump", "CSV", "XLSX", "PDF sign-in sheet"]
    return intro + "\n" + _table(columns, rows)


def _ticket_cost(results: dict) -> str:
    measured = results.get("ticket_cost", {})
    if not measured:
        return ""
    rows = [
        [
            BACKEND_NAMES[backend],
            f"{cost['build_ms']['mean']:.1f} / {cost['build_ms']['p50']:.1f}",
            f"{cost['send_per_s']['reused_connection']:.1f}",
            f"{cost['send_per_s']['per_message']:.1f}",
            f"{cost['reuse_speed_up']:.2f}x",
        ]
        for backend, cost in measured.items()
    ]
    messages = next(iter(measured.values()))["messages"]
    intro = (
        "## Ticket cost\n\nIn-process, for the confirmations of "
        f"{messages} people signed up for an in-person event: the time to build one (its "
        "three rows read, the QR code, the printable ticket, the `.ics` invitation and the MIME "
        "message), and the outbox's send rate to an instant SMTP server on loopback when a "
        "batch shares one connection (`OUTBOX_BATCH_SIZE` 50, the default) and when each "
        "message opens its own (batch size 1).\n"
    )
    columns = ["database", "build ms (mean / p50)", "sent/s, one connection a batch"]
    columns += ["sent/s, one connection a message", "reuse"]
    return intro + "\n" + _table(columns, rows)


def _confirmations(results: dict) -> str:
    measured = results.get("confirmations", {})
    if not measured:
        return ""
    rows = [
        [
            BACKEND_NAMES[backend],
            f"{after['sign_ups']:,}",
            f"{after['confirmed']:,}",
            f"{after['rush_seconds']:.1f} s",
            f"{after['delivered_during_rush']:,}",
            f"{after['delivered']:,}",
            f"{after['last_delivery_after_last_sign_up_s']:.1f} s "
            + ("✓" if after["meets_goal"] else "✗"),
            f"{after['messages_per_s']:.1f}",
            f"{after['sender_cpu_ms_per_message']:.1f}",
        ]
        for backend, after in measured.items()
    ]
    first = next(iter(measured.values()))
    intro = (
        "## Confirmations after a rush\n\nThe rush's sign-ups (as above, from "
        f"{results['sizes']['rush_concurrency']} connections) for an in-person event with a "
        "seat for everyone, so that every sign-up queues a confirmation with its QR code, "
        "printable ticket and invitation; gunicorn with sync workers, and "
        f"{first['senders']} `flask mail worker` processes sharing the outbox, sending to an "
        "SMTP server on loopback that accepts at once. Goal: the last confirmation sent within "
        f"{first['goal_s']} s of the last sign-up. Messages a second count from the rush's "
        "start to the last delivery; the senders' CPU per message is their user + system time "
        "over the whole measurement divided by the messages sent.\n"
    )
    columns = ["database", "sign-ups", "confirmed", "rush", "sent during the rush", "sent"]
    columns += ["last sent after the last sign-up", "messages/s", "sender CPU ms/message"]
    return intro + "\n" + _table(columns, rows)


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


def _measured(results: dict) -> list[dict]:
    return [setup for setup in results["setups"] if "error" not in setup]


def _label(setup: dict) -> str:
    return f"{BACKEND_NAMES[setup['backend']]} · {setup['worker_class']}"


def _table(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
