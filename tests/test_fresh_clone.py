"""A fresh clone served the way deploy/ does it (no scripts/run) answers in every language.

The compiled catalogues (.mo) are not in git. An operator who follows the README's server
section runs ``flask db upgrade`` and starts gunicorn; the catalogues are compiled when the
app starts, so a Bulgarian visitor gets Bulgarian pages and a Bulgarian e-mail.
"""

import email
import email.policy
import json
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bench import client
from bench.databases import flask, write_bench_programme
from bench.server import gunicorn
from bench.settings import SIGNUP_EVENT

ROOT = Path(__file__).resolve().parent.parent
BULGARIAN = ROOT / "eventreg" / "translations" / "bg" / "LC_MESSAGES" / "messages.po"


def bulgarian(text: str) -> str:
    with BULGARIAN.open("rb") as po:
        translation = read_po(po, locale="bg")[text].string
    assert translation and translation != text
    return translation


@pytest.fixture
def clone(tmp_path) -> Path:
    """The repository's files as git would check them out: tracked and new, nothing ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    target = tmp_path / "eventreg"
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    assert not list(target.glob("eventreg/translations/*/LC_MESSAGES/*.mo"))
    return target


def test_a_fresh_clone_served_by_gunicorn_speaks_bulgarian(clone, tmp_path):
    env = {
        "EVENTREG_SECRET_KEY": secrets.token_hex(32),
        "EVENTREG_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'eventreg.sqlite3'}",
        "GUNICORN_WORKER_CLASS": "sync",
        "GUNICORN_WORKERS": "2",
    }
    programme = write_bench_programme(tmp_path / "programme.toml", rush_seats=5)
    flask(clone, env, "db", "upgrade")
    flask(clone, env, "programme", "load", str(programme))

    with gunicorn(clone, "wsgi:app", env, tmp_path / "gunicorn.log", "/healthz") as base_url:
        connection = client.connect(base_url, timeout=10)
        connection.request("GET", "/", headers={"Accept-Language": "bg"})
        page = connection.getresponse().read().decode()
        body = json.dumps(
            {
                "first_name": "Мария",
                "last_name": "Иванова",
                "email": "maria@example.bg",
                "organisation": "Община Габрово",
                "country": "BG",
                "target_group": "social_economy",
                "language": "bg",
                "consent": True,
            }
        )
        connection.request(
            "POST",
            f"/api/v1/events/{SIGNUP_EVENT}/registrations",
            body,
            {"Content-Type": "application/json"},
        )
        answer = connection.getresponse()
        assert answer.status == 201, answer.read()
        answer.read()
        connection.close()

    assert (
        bulgarian("Study missions and webinars on socially responsible public procurement") in page
    )
    flask(clone, env, "mail", "send")  # without a mail server: .eml files under instance/mail
    (saved,) = (clone / "instance" / "mail").glob("*.eml")
    message = email.message_from_bytes(saved.read_bytes(), policy=email.policy.default)
    assert bulgarian("Your place is confirmed.") in message.get_body(("plain",)).get_content()
