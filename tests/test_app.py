"""The app factory, configuration and migrations."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from eventreg import create_app
from eventreg.extensions import db
from eventreg.models.practice import is_modelled


def test_no_secret_key_no_start(monkeypatch, tmp_path):
    monkeypatch.delenv("EVENTREG_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="No SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3"})


def test_settings_come_from_prefixed_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("EVENTREG_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("EVENTREG_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path}/env.sqlite3")
    monkeypatch.setenv("EVENTREG_MAIL_SERVER", "smtp.example.org")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["MAIL_SERVER"] == "smtp.example.org"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite3")


def test_models_and_migrations_agree(app):
    """A model change without a migration fails here, on SQLite and on PostgreSQL."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": is_modelled})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
