"""Small HTTP helpers over http.client: readiness checks and a browser's sign-up session."""

import http.client
import re
import subprocess
import time
from urllib.parse import urlsplit

_CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def connect(base_url: str, timeout: float = 60) -> http.client.HTTPConnection:
    """A keep-alive connection to the server (http.client reopens it when the server closes)."""
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def get(base_url: str, path: str) -> tuple[int, http.client.HTTPMessage, str]:
    """GET one path on a fresh connection: status, headers and body."""
    connection = connect(base_url, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def wait_until_up(base_url: str, path: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll until the server answers 200, or fail early when its process has died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering")
        try:
            if get(base_url, path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base_url}{path} did not answer 200 within {timeout:.0f} s")


def form_session(base_url: str) -> tuple[str, str]:
    """Open the sign-up form once as a browser would: its CSRF token and the session cookie."""
    status, headers, body = get(base_url, "/register")
    token = _CSRF_FIELD.search(body)
    cookie = headers.get("Set-Cookie", "").split(";", 1)[0]
    if status != 200 or token is None or not cookie:
        raise RuntimeError(f"GET /register gave {status} without a CSRF token and a session cookie")
    return token.group(1), cookie
