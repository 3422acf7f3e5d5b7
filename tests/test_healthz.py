"""GET /healthz: the database, Redis and the outbox backlog; 503 only without the database."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from eventreg import create_app
from eventreg.extensions import db
from eventreg.models import OutboxMessage, utcnow
from tests.support.database import base_config

UNREACHABLE_DATABASES = {
    "sqlite": "sqlite:////nonexistent-folder/eventreg.sqlite3",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/eventreg",  # nothing on port 1
}


def test_a_healthy_site_without_redis(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json() == {
        "status": "ok",
        "database": "ok",
        "redis": "not_configured",
        "outbox": {"pending": 0, "oldest_pending_age_seconds": None},
    }


def test_the_backlog_counts_pending_messages_and_the_oldest_ones_age(client, make_event, sign_up):
    event = make_event()
    sign_up(event)
    sign_up(event)
    oldest = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).first()
    oldest.created_at = utcnow() - timedelta(minutes=10)
    db.session.commit()

    outbox = client.get("/healthz").get_json()["outbox"]

    assert outbox["pending"] == 2
    assert 600 <= outbox["oldest_pending_age_seconds"] < 660


def test_sent_messages_are_not_backlog(client, make_event, sign_up):
    sign_up(make_event())
    db.session.execute(sa.update(OutboxMessage).values(status="sent", sent_at=utcnow()))
    db.session.commit()
    assert client.get("/healthz").get_json()["outbox"]["pending"] == 0


@pytest.mark.parametrize("backend", list(UNREACHABLE_DATABASES))
def test_without_the_database_it_answers_503(backend, tmp_path):
    app = create_app(base_config(UNREACHABLE_DATABASES[backend]))
    app.instance_path = str(tmp_path)
    with app.app_context():
        answer = app.test_client().get("/healthz")
        db.session.remove()
        db.engine.dispose()
    assert answer.status_code == 503
    assert answer.get_json() == {
        "status": "down",
        "database": "unavailable",
        "redis": "not_configured",
        "outbox": None,
    }
