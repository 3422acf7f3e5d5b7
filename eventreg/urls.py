"""Absolute links built outside a request (the mail sender, the command line), and which
``next`` targets stay on this site."""

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import current_app, has_request_context


@contextmanager
def site_context() -> Iterator[None]:
    """A request context on BASE_URL, unless a request is already being served."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        yield


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site (``/practices/propose``), else None: no other
    site, no ``//host`` or ``/\\host`` (browsers read both as another site), no control
    characters."""
    if not target or len(target) > 500 or not target.startswith("/"):
        return None
    if target.startswith("//") or "\\" in target or not target.isprintable() or " " in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None
