"""gunicorn settings for `gunicorn wsgi:app` (scripts/run uses them; GUNICORN_* env overrides)."""

import os
import tempfile

from gunicorn.glogging import Logger

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


class RedactingLogger(Logger):
    """Access log lines with the secret of a personal link (``/manage/<token>`` ...) replaced
    by ``[token]``, in the request line, the path and the Referer."""

    def atoms(self, resp, req, environ, request_time):
        # Imported here, in a worker, where the app is loaded already: a master that imported
        # eventreg would hand its old modules to the workers of a graceful reload (HUP).
        from eventreg.log_redaction import redact

        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "f"):
            atoms[name] = redact(atoms[name])
        return atoms


logger_class = RedactingLogger


def when_ready(server):
    """Say where the server really listens (a port 0 or a host name is resolved by then)."""
    for listener in server.LISTENERS:
        print(f"Serving on {listener} (Ctrl+C to stop)", flush=True)
    print(f"Control socket: {server.cfg.control_socket}", flush=True)
