"""More than one machine on one: PostgreSQL, Redis, nginx and several app servers.

The multi-machine set-up of ``deploy/`` (its nginx site, gunicorn with sync workers and one
``flask mail worker`` per app server, all sharing PostgreSQL and Redis through
``EVENTREG_REDIS_URL``) started on loopback ports under a scratch folder, for the benchmarks
and for ``tests/test_scaleout.py``. Every process is stopped by its PID.
"""

import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .mail import mail_worker
from .server import free_port, gunicorn_process

ROOT = Path(__file__).resolve().parent.parent
NGINX_SITE = ROOT / "deploy" / "nginx" / "eventreg.conf"
# Around the site file, what /etc/nginx/nginx.conf gives it on a server, with every path
# under the scratch folder.
NGINX_MAIN = """daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/eventreg.conf;
}}
"""


def wait_for(condition, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``condition`` until it is true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise RuntimeError(f"{what} (waited {timeout:.0f} s)")


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Redis:
    """A private redis-server on a loopback port, nothing written to disk; can stop and restart."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
        ]  # fmt: skip
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.answers, 10, f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None

    def answers(self) -> bool:
        """Whether PING gets PONG."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def redis_server(workdir: Path) -> Iterator[Redis]:
    """Start a private Redis for the block; stop it afterwards."""
    redis = Redis(workdir)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def nginx_site(upstreams: list[str], port: int, static: Path, access_log: Path) -> str:
    """deploy/nginx/eventreg.conf, pointed at these app servers, this port, static folder and
    access log."""
    site = NGINX_SITE.read_text(encoding="utf-8")
    servers = "".join(
        f"    server {address} max_fails=2 fail_timeout=5s;\n" for address in upstreams
    )
    site, found = re.subn(
        r"(upstream eventreg_app \{\n(?:    #.*\n)*)(?:    server .*\n)+", rf"\g<1>{servers}", site
    )
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("alias /srv/eventreg/static/;", f"alias {static}/;")
    site = site.replace("/var/log/nginx/eventreg.access.log", str(access_log))
    if found != 1 or f"127.0.0.1:{port}" not in site or str(static) not in site:
        raise RuntimeError(f"{NGINX_SITE} no longer has the upstream, listen and alias lines")
    if str(access_log) not in site:
        raise RuntimeError(f"{NGINX_SITE} no longer has its access_log line")
    return site


@contextmanager
def nginx(workdir: Path, upstreams: list[str]) -> Iterator[str]:
    """nginx in the foreground with the deploy/ site balancing ``upstreams``; yields its URL."""
    work = workdir / "nginx"
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    site = nginx_site(upstreams, port, ROOT / "static", work / "access.log")
    (work / "eventreg.conf").write_text(site)
    (work / "nginx.conf").write_text(NGINX_MAIN.format(work=work))
    command = [
        shutil.which("nginx") or "/usr/sbin/nginx",
        "-c", str(work / "nginx.conf"),
        "-e", str(work / "error.log"),
    ]  # fmt: skip
    with (work / "stderr.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(
            lambda: process.poll() is not None or _accepts(port),
            10,
            f"nginx did not listen on port {port}",
        )
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {(work / 'stderr.log').read_text()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process, signal.SIGQUIT)  # graceful: finish the requests in flight


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@dataclass
class Cluster:
    """nginx's URL, each app server's own URL, and the shared Redis."""

    base_url: str
    instances: list[str]
    redis: Redis
    masters: list[int] = field(default_factory=list)  # the gunicorn masters' PIDs


def cluster_env(redis: Redis) -> dict[str, str]:
    """What deploy/ sets on every app server beyond the database: Redis, one proxy, sync workers."""
    return {
        "EVENTREG_REDIS_URL": redis.url,
        "EVENTREG_TRUSTED_PROXIES": "1",
        "GUNICORN_WORKER_CLASS": "sync",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "1",
        "PYTHONUNBUFFERED": "1",  # logs complete the moment they are read
    }


@contextmanager
def cluster(
    root: Path,
    env: dict[str, str],
    workdir: Path,
    *,
    instances: int = 2,
    mail: bool = False,
    app: str = "wsgi:app",
    ready_path: str = "/healthz",
) -> Iterator[Cluster]:
    """Redis, ``instances`` gunicorns (each with a mail worker when ``mail``) and nginx.

    ``env`` carries the database and the other EVENTREG_* settings every server shares.
    """
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(workdir))
        shared = env | cluster_env(redis)
        urls, masters = [], []
        for number in range(1, instances + 1):
            log = workdir / f"app-{number}.log"
            url, master = stack.enter_context(gunicorn_process(root, app, shared, log, ready_path))
            urls.append(url)
            masters.append(master.pid)
            if mail:
                stack.enter_context(mail_worker(root, shared, workdir / f"mail-{number}.log"))
        upstreams = [url.removeprefix("http://") for url in urls]
        yield Cluster(stack.enter_context(nginx(workdir, upstreams)), urls, redis, masters)
