"""eventreg: registration for the programme's study missions and webinars."""

import secrets
from pathlib import Path

from flask import Flask

from . import (
    access,
    cli,
    database,
    formatting,
    i18n,
    page_cache,
    rate_limits,
    security,
    sessions,
)
from .admin import bp as admin_bp
from .api.routes import bp as api_bp
from .auth.routes import bp as auth_bp
from .certificates.routes import bp as certificates_bp
from .checkin.routes import bp as checkin_bp
from .config import DefaultConfig, redis_settings
from .database import render_migration_item
from .errors.handlers import bp as errors_bp
from .extensions import babel, cache, csrf, db, mail, migrate
from .feedback.routes import bp as feedback_bp
from .health.routes import bp as health_bp
from .i18n import select_locale
from .manage.routes import bp as manage_bp
from .models.practice import is_modelled
from .network.routes import bp as network_bp
from .practices.routes import bp as practices_bp
from .public.routes import bp as public_bp
from .services import storage
from .services.private_files import private_folder

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure an instance of the application."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("EVENTREG")
    else:
        app.config.from_mapping(test_config)
    private_folder(Path(app.instance_path))  # the database, saved mail and backups live there
    _require_secret_key(app)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        database = Path(app.instance_path) / "eventreg.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    if app.config["REDIS_URL"]:
        app.config.update(
            redis_settings(app.config["REDIS_URL"], app.config["REDIS_TIMEOUT_SECONDS"])
        )

    sessions.init_app(app)
    page_cache.init_app(app)  # its WSGI layer goes inside security.init_app's ProxyFix
    security.init_app(app)
    _init_extensions(app)
    storage.init_app(app)
    _register_blueprints(app)
    formatting.init_app(app)
    cli.init_app(app)
    return app


def _require_secret_key(app: Flask) -> None:
    """Refuse to start without a secret key, except in debug mode where a throwaway one will do."""
    if app.config.get("SECRET_KEY"):
        return
    if app.debug:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        app.logger.warning("No SECRET_KEY configured: using a throwaway one for this debug run.")
        return
    raise RuntimeError(
        "No SECRET_KEY configured. Run scripts/run once (it writes instance/config.py), "
        "or set EVENTREG_SECRET_KEY."
    )


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        render_item=render_migration_item,
        compare_type=True,
        include_name=is_modelled,
    )
    csrf.init_app(app)
    rate_limits.init_app(app)
    cache.init_app(app)
    mail.init_app(app)
    i18n.compile_stale_catalogues(app)
    babel.init_app(app, locale_selector=select_locale)
    access.init_app(app)


def _register_blueprints(app: Flask) -> None:
    for blueprint in (
        public_bp,
        manage_bp,
        auth_bp,
        admin_bp,  # with the organiser area's parts nested in it
        checkin_bp,
        feedback_bp,
        certificates_bp,
        network_bp,
        practices_bp,
        api_bp,
        health_bp,
        errors_bp,
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)  # bearer tokens; a staff session's writes: api.routes checks CSRF
