"""Wiring: the fixture plugins by concern, and the app, client and CLI runner every test uses."""

import pytest

pytest_plugins = [
    "tests.support.database",
    "tests.support.factories",
    "tests.support.mail",
    "tests.support.browser",
]


@pytest.fixture
def app_config():
    """Config for the ``app`` fixture; a test module overrides it to change settings."""
    return {}


@pytest.fixture
def app(make_app, app_config):
    app = make_app(**app_config)
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
