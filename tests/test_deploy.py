"""deploy/: the nginx site is valid nginx, and every systemd unit runs a command that exists."""

import configparser
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.cluster import NGINX_MAIN, nginx_site

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
IN_CI = os.environ.get("CI") == "true"
# Timers may name a command another branch is building; everything else must exist now.
BUILT_ELSEWHERE = {("feedback", "send")}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(UNITS / name)
    return parser


def test_the_nginx_site_passes_nginx_t(tmp_path):
    if shutil.which("nginx") is None:
        if IN_CI:
            pytest.fail("CI=true but nginx is not installed (.ci/run installs it)")
        pytest.skip("nginx is not installed")
    (tmp_path / "eventreg.conf").write_text(
        nginx_site(
            ["127.0.0.1:8001", "127.0.0.1:8002"], 8080, ROOT / "static", tmp_path / "access.log"
        )
    )
    (tmp_path / "nginx.conf").write_text(NGINX_MAIN.format(work=tmp_path))
    checked = subprocess.run(
        ["nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_gunicorn_runs_sync_workers_behind_nginx():
    service = unit("eventreg.service")["Service"]
    assert "GUNICORN_WORKER_CLASS=sync" in service["Environment"].split()
    assert service["ExecStart"].endswith("gunicorn --config gunicorn.conf.py wsgi:app")


def test_every_timer_has_its_service_and_every_flask_command_exists(app):
    timers = sorted(path.stem for path in UNITS.glob("*.timer"))
    assert timers == ["eventreg-feedback", "eventreg-purge", "eventreg-remind"]
    services = [path.name for path in UNITS.glob("*.service")]
    assert {f"{name}.service" for name in timers} <= set(services)
    for name in services:
        command = shlex.split(unit(name)["Service"]["ExecStart"])
        if not command[0].endswith("/flask"):
            continue
        group, sub, *options = command[1:]
        if (group, sub) in BUILT_ELSEWHERE and group not in app.cli.commands:
            continue
        found = app.cli.commands[group].commands[sub]
        known = {opt for param in found.params for opt in getattr(param, "opts", [])}
        assert set(options) <= known, (name, options)
