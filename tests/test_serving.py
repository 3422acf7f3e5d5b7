"""Serving: scripts/run says where it really listens and e-mail links follow it; every gunicorn
has its own control socket."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.factories import person
from tests.support.net import free_port

ROOT = Path(__file__).resolve().parent.parent
SKIP = (".git", ".venv", "instance", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache")


def wait_for_line(stream_path: Path, pattern: str, process, timeout: float = 60) -> re.Match:
    """Poll a log file until a line matches, failing early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, stream_path.read_text(errors="replace"))
        if found:
            return found
        assert process.poll() is None, stream_path.read_text(errors="replace")
        time.sleep(0.1)
    raise AssertionError(f"no {pattern!r} in: {stream_path.read_text(errors='replace')}")


def start(command, cwd, env, log: Path):
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def gunicorn_env(tmp_path, bind: str) -> dict:
    return os.environ | {
        "EVENTREG_SECRET_KEY": "test-secret-key",
        "EVENTREG_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUNICORN_BIND": bind,
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESSLOG": str(tmp_path / "access.log"),
    }


def test_two_gunicorns_on_one_machine_print_their_real_address_and_own_control_socket(tmp_path):
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
    servers = []
    try:
        for name in ("a", "b"):
            log = tmp_path / f"{name}.log"
            env = gunicorn_env(tmp_path, "127.0.0.1:0")  # the port is chosen by the system
            servers.append((start(command, ROOT, env, log), log))
        found = [
            (
                wait_for_line(log, r"Serving on (http://127\.0\.0\.1:(\d+))", server),
                wait_for_line(log, r"Control socket: (\S+)", server)[1],
            )
            for server, log in servers
        ]
        (first, first_socket), (second, second_socket) = found
        assert first[2] != "0" and first[2] != second[2]
        assert first_socket != second_socket
        assert not first_socket.startswith(str(Path.home()))
        for serving, _ in found:
            with urllib.request.urlopen(
                serving[1] + "/static/css/site.css", timeout=10
            ) as response:
                assert response.status == 200
    finally:
        for server, _ in servers:
            stop(server)


def test_scripts_run_serves_where_it_says_and_mail_links_follow_the_bind_address(tmp_path):
    """The real scripts/run, in a copy of the project sharing this .venv."""
    copy = tmp_path / "eventreg"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*SKIP))
    (copy / ".venv").symlink_to(ROOT / ".venv")
    port = free_port()
    env = os.environ | {
        "EVENTREG_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "EVENTREG_RATELIMIT_ENABLED": "false",
    }
    env.pop("EVENTREG_BASE_URL", None)
    log = tmp_path / "run.log"
    run = start(["bash", "scripts/run"], copy, env, log)
    try:
        base = wait_for_line(log, rf"Serving on (http://127\.0\.0\.1:{port})", run, timeout=120)[1]
        body = person(email="ana@example.org") | {"consent": True}
        request = urllib.request.Request(
            f"{base}/api/v1/events/mission-bergamo/registrations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 201
        except urllib.error.HTTPError as error:
            raise AssertionError(log.read_text()[-3000:]) from error
        mail = copy / "instance" / "mail"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not list(mail.glob("*.eml")):
            time.sleep(0.2)
        (message,) = mail.glob("*.eml")
        links = set(re.findall(r"https?://[^/\s\"<>]+/manage/", message.read_text()))
        assert links == {f"{base}/manage/"}
    finally:
        stop(run)


@pytest.mark.parametrize("configured", ["env", "instance"])
def test_a_set_base_url_wins_over_the_bind_address(tmp_path, configured):
    """scripts/run only derives BASE_URL when neither the environment nor instance/ sets it."""
    script = (ROOT / "scripts" / "run").read_text()
    block = script[script.index('export GUNICORN_BIND="${GUNICORN_BIND') : script.index("echo ")]
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text(
        "BASE_URL = 'https://events.example.org'\n" if configured == "instance" else ""
    )
    env = os.environ | {"GUNICORN_BIND": "127.0.0.1:8123"}
    if configured == "env":
        env["EVENTREG_BASE_URL"] = "https://events.example.org"
    else:
        env.pop("EVENTREG_BASE_URL", None)
    shown = subprocess.run(
        ["bash", "-c", block + 'echo "${EVENTREG_BASE_URL:-unset}"'],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown == ("https://events.example.org" if configured == "env" else "unset")


SECRET = "Zm9vYmFy.Sx3-kQ_9aZ"  # shaped like a signed token


def test_gunicorns_access_log_keeps_no_personal_link_secrets(tmp_path):
    """A manage link opens a person's registrations: the log says [token] instead."""
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
    log = tmp_path / "server.log"
    server = start(command, ROOT, gunicorn_env(tmp_path, "127.0.0.1:0"), log)
    try:
        base = wait_for_line(log, r"Serving on (http://127\.0\.0\.1:\d+)", server)[1]
        request = urllib.request.Request(
            f"{base}/manage/{SECRET}/confirmed?lang=da",
            headers={"Referer": f"{base}/network/sign-in/{SECRET}x"},
        )
        with pytest.raises(urllib.error.HTTPError) as answer:  # an unknown link: 404
            urllib.request.urlopen(request, timeout=30)
        answer.value.close()
        assert answer.value.code == 404
        access = tmp_path / "access.log"
        line = wait_for_line(access, r".*/manage/.*", server)[0]
    finally:
        stop(server)
    assert SECRET not in access.read_text()
    assert '"GET /manage/[token]/confirmed?lang=da HTTP/1.1" 404' in line
    assert f'"{base}/network/sign-in/[token]"' in line


def test_every_url_with_a_token_is_redacted_in_logs(app):
    from eventreg.log_redaction import redact

    token_rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert len(token_rules) > 10
    for rule in token_rules:
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SECRET if m[1] == "token" else "7", rule.rule)
        assert SECRET not in redact(path) and "[token]" in redact(path), rule.rule
    assert redact("/events/mission-bergamo") == "/events/mission-bergamo"
