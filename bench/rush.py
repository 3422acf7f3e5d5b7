"""The rush: many people signing up for one event with few seats, all at once, over the API."""

import http.client
import json
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from . import client


def rush(base_url: str, slug: str, requests: int, seats: int, concurrency: int) -> dict:
    """Send ``requests`` sign-ups from ``concurrency`` connections; count and time the answers."""
    path = f"/api/v1/events/{slug}/registrations"
    local = threading.local()
    connections = []

    def attempt(number: int) -> tuple[str, float]:
        if not hasattr(local, "connection"):
            local.connection = client.connect(base_url)
            connections.append(local.connection)
        started = time.perf_counter()
        outcome = _sign_up(local.connection, path, number)
        return outcome, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        answers = list(pool.map(attempt, range(requests)))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    outcomes = Counter(outcome for outcome, _ in answers)
    return {
        "requests": requests,
        "seats": seats,
        "concurrency": concurrency,
        "confirmed": outcomes["confirmed"],
        "waitlisted": outcomes["waitlisted"],
        "server_errors": outcomes["5xx"],
        "other_answers": {
            outcome: count
            for outcome, count in outcomes.items()
            if outcome not in ("confirmed", "waitlisted", "5xx")
        },
        "seconds": round(elapsed, 2),
        "signups_per_minute": round(requests / elapsed * 60),
        **_percentiles([seconds for _, seconds in answers]),
        "event_after": _event_counts(base_url, slug),
    }


def is_exact(result: dict) -> bool:
    """Every seat taken once, everyone else queued, no failures, and the event agrees."""
    seats, queued = result["seats"], result["requests"] - result["seats"]
    return (
        result["confirmed"] == seats
        and result["waitlisted"] == queued
        and result["server_errors"] == 0
        and not result["other_answers"]
        and result["database_locked"] == 0
        and result["event_after"] == {"seats_left": 0, "waitlist_length": queued}
    )


def _sign_up(connection: http.client.HTTPConnection, path: str, number: int) -> str:
    """One sign-up: "confirmed", "waitlisted", "5xx", or what else came back."""
    body = json.dumps(
        {
            "first_name": "Rush",
            "last_name": f"Person {number}",
            "email": f"rush-{number}@example.org",
            "organisation": "Bench Cooperative",
            "country": "IT",
            "target_group": "social_economy",
            "language": "en",
            "consent": True,
        }
    )
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        return f"connection error: {type(exc).__name__}"
    if response.status >= 500:
        return "5xx"
    if response.status == 201:
        return json.loads(payload)["status"]
    return f"status {response.status}"


def _percentiles(seconds: list[float]) -> dict:
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 1),
        "p95_ms": round(cuts[94] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


def _event_counts(base_url: str, slug: str) -> dict:
    """What the API says about the event once the rush is over."""
    status, _, body = client.get(base_url, f"/api/v1/events/{slug}")
    if status != 200:
        return {"error": f"GET /api/v1/events/{slug} gave {status}"}
    event = json.loads(body)
    return {"seats_left": event["seats_left"], "waitlist_length": event["waitlist_length"]}
