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


# Views that may take a POST without the session's CSRF token, and why.
CSRF_EXEMPT = {
    "network.unsubscribe",  # RFC 8058 one-click unsubscribe: mail clients POST with no form
}


def _example_values(rule) -> dict:
    """A value each of the rule's variables accepts (the view is never reached)."""
    values = {}
    for name, converter in rule._converters.items():
        items = getattr(converter, "items", None)
        values[name] = sorted(items)[0] if items else "1"
    return values


@pytest.mark.sqlite_only
def test_every_form_post_needs_the_csrf_token(make_app):
    """One check for every form and button: CSRFProtect refuses a POST before any view runs."""
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    refused, accepted = [], []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint.startswith("api."):
            continue
        url = app.url_map.bind("localhost").build(rule.endpoint, _example_values(rule))
        response = client.post(url, data={"anything": "x"})
        wanted = response.status_code == 400 and b"form has expired" in response.data
        (refused if wanted else accepted).append(rule.endpoint)
    assert len(refused) > 40  # the forms are found: sign-up, organiser buttons, check-in ...
    assert set(accepted) == CSRF_EXEMPT


@pytest.mark.sqlite_only
def test_the_upgrade_folds_the_names_already_registered(tmp_path):
    """Migration 0016 fills the new search column for the people registered before it, and
    writes their address's domain in ASCII."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    app = create_app(
        {"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/old.sqlite3"}
    )
    with app.app_context():
        upgrade(revision="0015_network_blocks_sessions")
        db.session.execute(
            text(
                "INSERT INTO registrant (first_name, last_name, email, organisation, country,"
                " target_group, language, network_opt_in, consent_at, privacy_notice_version,"
                " manage_key, created_at, updated_at) VALUES ('Søren', 'Jørgensen',"
                " 's@пример.бг', '', 'DK', 'business', 'da', 0, '2026-01-01', 'v', 'k',"
                " '2026-01-01', '2026-01-01')"
            )
        )
        db.session.commit()
        upgrade()
        folded, email = db.session.execute(text("SELECT search_name, email FROM registrant")).one()
    assert folded == "soren jorgensen"
    assert email == "s@xn--e1afmkfd.xn--90ae"  # as the forms store it now, and look it up
