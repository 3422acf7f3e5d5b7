"""eventreg in the harness's own process, for measurements that call its services directly."""

from flask import Flask

from eventreg import create_app


def app_on(url: str, **settings) -> Flask:
    """The app on one database. Page caching is off: measurements count work, not cache hits."""
    base = {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "PAGE_CACHE_SECONDS": 0}
    return create_app(base | settings)
