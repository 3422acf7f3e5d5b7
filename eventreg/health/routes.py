"""GET /healthz for load balancers and monitoring: 503 only when the database is down."""

from flask import Blueprint

from ..services import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The database, Redis and the outbox backlog; without Redis the site still serves."""
    state = health.check()
    status = 200 if state.database_ok else 503
    return _payload(state), status, {"Cache-Control": "no-store"}


def _payload(state: health.Health) -> dict:
    backlog = state.backlog
    return {
        "status": state.status,
        "database": "ok" if state.database_ok else "unavailable",
        "redis": state.redis,
        "outbox": None
        if backlog is None
        else {
            "pending": backlog.pending,
            "oldest_pending_age_seconds": None
            if backlog.oldest_age_seconds is None
            else round(backlog.oldest_age_seconds, 1),
        },
    }
