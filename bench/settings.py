"""How big and how long each run is: the full run whose results we commit, and a quick one."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """Durations, concurrency and data sizes for one harness run."""

    name: str
    duration_s: int  # each wrk measurement
    warmup_s: int  # a discarded wrk run before each measurement
    wrk_threads: int
    connections: int
    rush_requests: int
    rush_seats: int
    rush_concurrency: int
    query_sizes: tuple[int, int]  # registrations in the small and the large database
    export_sizes: tuple[int, int]  # registrations exported: a small and a large event
    ticket_messages: int  # confirmations built and sent to measure the ticket's cost
    quiet_wait_s: int  # how long to wait for other processes to leave the CPUs before a set-up


FULL = Sizes(
    name="full",
    duration_s=10,
    warmup_s=2,
    wrk_threads=2,
    connections=32,
    rush_requests=2000,
    rush_seats=100,
    rush_concurrency=64,
    query_sizes=(100, 10_000),
    export_sizes=(5_000, 50_000),
    ticket_messages=100,
    quiet_wait_s=300,
)

QUICK = Sizes(
    name="quick",
    duration_s=1,
    warmup_s=0,
    wrk_threads=2,
    connections=8,
    rush_requests=60,
    rush_seats=5,
    rush_concurrency=16,
    query_sizes=(20, 200),
    export_sizes=(20, 200),
    ticket_messages=4,
    quiet_wait_s=0,
)

# The event that load scenarios sign people up for (it fills, then queues), and the rush's own.
SIGNUP_EVENT = "bench-signup"
SIGNUP_EVENT_CAPACITY = 100
RUSH_EVENT = "bench-rush"
# An in-person event, so that its confirmations carry a QR ticket; large enough to seat everyone
# the ticket-cost measurement signs up, and the exports' registrations.
TICKET_EVENT = "bench-ticket"
TICKET_EVENT_CAPACITY = 100_000

# The same two worker set-ups for the floor and for eventreg: gunicorn's defaults per README.
WORKER_SETUPS = {
    "sync": {"GUNICORN_WORKER_CLASS": "sync", "GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "1"},
    "gthread": {
        "GUNICORN_WORKER_CLASS": "gthread",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "4",
    },
}
# `flask mail worker` processes sharing the outbox when confirmations after a rush are timed.
MAIL_SENDERS = 2
BACKENDS = ("sqlite", "postgresql")
# deploy/'s topology on one machine: nginx in front of two app servers (gunicorn, 2 sync workers
# each) sharing PostgreSQL and Redis (bench/cluster.py); measured on PostgreSQL only.
CLUSTER_SETUP = "nginx + 2 × sync + Redis"
