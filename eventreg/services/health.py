"""How the service's parts are doing: the database, the shared Redis and the outbox's backlog."""

import logging
from dataclasses import dataclass

import redis
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import MessageStatus, OutboxMessage, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backlog:
    """Messages waiting in the outbox, and how long the oldest has waited."""

    pending: int
    oldest_age_seconds: float | None


@dataclass(frozen=True)
class Health:
    backlog: Backlog | None  # None: the database did not answer
    redis: str  # "ok", "unavailable" or "not_configured"

    @property
    def database_ok(self) -> bool:
        return self.backlog is not None

    @property
    def status(self) -> str:
        """ "down" without the database; "degraded" when only Redis is missing; else "ok"."""
        if not self.database_ok:
            return "down"
        return "degraded" if self.redis == "unavailable" else "ok"


def check() -> Health:
    """Ask the database (through the outbox's backlog) and Redis whether they answer."""
    return Health(backlog=_backlog(), redis=_redis_state())


def _backlog() -> Backlog | None:
    pending = OutboxMessage.status == MessageStatus.PENDING
    try:
        count, oldest = db.session.execute(
            select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(pending)
        ).one()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("Health check: the database does not answer (%s)", error)
        return None
    db.session.rollback()  # a read: end the snapshot now
    age = (utcnow() - oldest).total_seconds() if oldest else None
    return Backlog(pending=count, oldest_age_seconds=age)


def _redis_state() -> str:
    url = current_app.config["REDIS_URL"]
    if not url:
        return "not_configured"
    client = current_app.extensions.get("health.redis")
    if client is None:
        timeout = current_app.config["REDIS_TIMEOUT_SECONDS"]
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        current_app.extensions["health.redis"] = client
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return "unavailable"
    return "ok"
