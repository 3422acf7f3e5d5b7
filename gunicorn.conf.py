"""gunicorn settings for `gunicorn wsgi:app` (scripts/run uses them; GUNICORN_* env overrides)."""

import os
import tempfile

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 10
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
# gunicornc's socket: one per server (this file is read by the master), never a shared path
# such as ~/.gunicorn/gunicorn.ctl that a second server on the machine would take over.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or os.path.join(
    tempfile.gettempdir(), f"eventreg-gunicorn-{os.getpid()}.ctl"
)


def when_ready(server):
    """Say where the server really listens (a port 0 or a host name is resolved by then)."""
    for listener in server.LISTENERS:
        print(f"Serving on {listener} (Ctrl+C to stop)", flush=True)
    print(f"Control socket: {server.cfg.control_socket}", flush=True)
