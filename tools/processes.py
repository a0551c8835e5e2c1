"""Helpers for running the portal's own processes (gunicorn, Celery, redis-server) on
this machine: the load benchmark and the end-to-end tests both start them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from urllib.parse import quote

from django.conf import settings


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port: int, *, seconds: float = 30) -> bool:
    """True once something accepts connections on the port; False if nothing did in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_answers(port):
            return True
        time.sleep(0.2)
    return False


def database_url(settings_dict: dict, *, name: str | None = None) -> str:
    """A DATABASE_URL for another process, from a Django connection's settings (another
    database's name on the same server, if given)."""
    credentials = quote(settings_dict["USER"] or "")
    if settings_dict["PASSWORD"]:
        credentials += f":{quote(settings_dict['PASSWORD'])}"
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{name or settings_dict['NAME']}"


def start_gunicorn(*, port: int, workers: int, log_path, environment: dict[str, str]):
    """The portal under gunicorn on 127.0.0.1 with production settings (DEBUG off, no
    HTTPS redirect on the loopback, emails nowhere), plus the caller's environment."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "EMAIL_URL": "dummymail://",
        **environment,
    }
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "atb.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
    ]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR)
