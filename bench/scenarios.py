"""What the harness measures, with the goals from issue 7, and what it will measure next.

A throughput scenario is one wrk run against the running service. To add one, write its Lua
script in ``bench/lua/`` and append a ``Scenario`` to ``SCENARIOS``. Everything else (floor
ratio, goal, report) follows. The other measurements have modules of their own: ``rush``,
``mail``, ``exports`` and ``queries``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from . import client
from .databases import organiser_token
from .settings import SIGNUP_EVENT

ROOT = Path(__file__).resolve().parent.parent

# Throughput as a share of the framework floor, by kind of scenario.
GOALS = {"read": 0.80, "signup": 0.40, "checkin": 0.50}  # reads: issue 18 (0.60 in issue 7)
# Sign-ups a minute on one contended event ("well over"; pretix documents 300-400).
RUSH_GOAL_PER_MINUTE = 1200
# CPU per request (issue 18): sign-ups as a multiple of the write floor's (bench/write_floor.py,
# the same statements from a bare view), check-in in milliseconds per scan.
WRITE_FLOOR_GOALS = {"signup_api": 3.0, "signup_form": 4.0}
CHECKIN_CPU_MS_GOAL = 1.5

# (base URL, a prefix unique to this wrk run, the service's EVENTREG_* environment) -> the Lua
# script's arguments.
ScriptArgs = Callable[[str, str, dict[str, str]], list[str]]


def no_args(base_url: str, prefix: str, env: dict[str, str]) -> list[str]:
    """Reads need nothing."""
    return []


def unique_prefix(base_url: str, prefix: str, env: dict[str, str]) -> list[str]:
    """API sign-ups need only a prefix for their e-mail addresses."""
    return [prefix]


def door_scans(base_url: str, prefix: str, env: dict[str, str]) -> list[str]:
    """Check-in needs ticket secrets and an organiser's token.

    It runs after the sign-up scenarios, which have filled ``bench-signup``'s seats: the
    secrets of those confirmed registrations (100, about 4 kB) go to the Lua script as
    arguments, and it cycles through them: the first scan of each admits, later ones are
    answered "already_checked_in", both 200. The organiser is made, and its token issued,
    with the README's ``flask users`` commands.
    """
    url = env["EVENTREG_SQLALCHEMY_DATABASE_URI"]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            tickets = connection.scalars(
                sa.text(
                    "SELECT r.ticket_secret FROM registration r JOIN event e ON e.id = r.event_id"
                    " WHERE e.slug = :slug AND r.status = 'confirmed'"
                ),
                {"slug": SIGNUP_EVENT},
            ).all()
    finally:
        engine.dispose()
    if not tickets:
        raise RuntimeError(f"no confirmed registrations for {SIGNUP_EVENT} to check in")
    token = organiser_token(ROOT, env, f"{prefix}-organiser@example.org")
    return [token, SIGNUP_EVENT, *tickets]


def checked_in(env: dict[str, str]) -> int:
    """How many of ``door_scans``'s tickets the door has admitted (the first scan of each)."""
    engine = sa.create_engine(env["EVENTREG_SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as connection:
            return connection.scalar(
                sa.text(
                    "SELECT count(*) FROM registration r JOIN event e ON e.id = r.event_id"
                    " WHERE e.slug = :slug AND r.checked_in_at IS NOT NULL"
                ),
                {"slug": SIGNUP_EVENT},
            )
    finally:
        engine.dispose()


def browser_session(base_url: str, prefix: str, env: dict[str, str]) -> list[str]:
    """Form sign-ups reuse one browser session: its CSRF token and cookie, like a real form."""
    token, cookie = client.form_session(base_url)
    return [prefix, quote(token, safe=""), cookie, SIGNUP_EVENT]


@dataclass(frozen=True)
class Scenario:
    """One kind of request, loaded by wrk and compared with the floor."""

    key: str
    title: str
    path: str
    kind: str  # a key of GOALS
    script: str = "common.lua"
    script_args: ScriptArgs = no_args

    @property
    def goal(self) -> float:
        return GOALS[self.kind]


SCENARIOS = (
    Scenario("programme_page", "GET / (programme page)", "/", "read"),
    Scenario("event_page", "GET /events/<slug> (event page)", f"/events/{SIGNUP_EVENT}", "read"),
    Scenario("api_events", "GET /api/v1/events", "/api/v1/events", "read"),
    Scenario(
        "signup_form",
        "POST /register (sign-up form)",
        "/register",
        "signup",
        script="signup_form.lua",
        script_args=browser_session,
    ),
    Scenario(
        "signup_api",
        "POST /api/v1/events/<slug>/registrations",
        f"/api/v1/events/{SIGNUP_EVENT}/registrations",
        "signup",
        script="signup_api.lua",
        script_args=unique_prefix,
    ),
    # After the sign-ups: it checks in the seats they filled.
    Scenario(
        "checkin",
        "POST /api/v1/checkin (ticket scan)",
        "/api/v1/checkin",
        "checkin",
        script="checkin.lua",
        script_args=door_scans,
    ),
)
