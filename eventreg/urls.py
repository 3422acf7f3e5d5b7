"""Absolute links built outside a request (the mail sender, the command line)."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, has_request_context


@contextmanager
def site_context() -> Iterator[None]:
    """A request context on BASE_URL, unless a request is already being served."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        yield
