"""Real `celery worker` and `celery beat` processes for end-to-end tests.

They run as the deployment runs them (the Procfile's commands), against the test
database and the test Redis, so what they do is seen only through the database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

from tools.processes import database_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def url_of_the_test_database(*, as_runtime_role: bool = False) -> str:
    """The URL of the database this test runs on (pytest-django's `test_` copy), as the
    suite's own role (the owner), or as the portal's processes connect in production:
    the runtime role (trust authentication here, so no password)."""
    if as_runtime_role and settings.DATABASE_RUNTIME_ROLE:
        runtime = {**connection.settings_dict, "USER": settings.DATABASE_RUNTIME_ROLE, "PASSWORD": ""}
        return database_url(runtime)
    return database_url(connection.settings_dict)


class BackgroundProcesses:
    """Starts Celery processes in their own process groups, so a test can SIGKILL one
    (with its pool's children) as a machine failure would, and stops the rest at the end."""

    def __init__(
        self, log_dir: Path, *, redis_url: str | None = None, email_url: str = "dummymail://"
    ) -> None:
        self.log_dir = log_dir
        self.redis_url = redis_url or settings.REDIS_URL
        self.email_url = email_url
        self.running: dict[str, subprocess.Popen] = {}

    def _environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "atb.settings",
            # The portal's processes run as in production: as the runtime role.
            "DATABASE_URL": url_of_the_test_database(as_runtime_role=True),
            "REDIS_URL": self.redis_url,
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "BACKGROUND_RECHECK_SECONDS": "1",
            "STATIC_ROOT": str(settings.STATIC_ROOT),  # the suite's own collection
            "SECRET_KEY": settings.SECRET_KEY,
            "EMAIL_URL": self.email_url,
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, name: str, *celery_args: str) -> subprocess.Popen:
        return self._start(
            name, [sys.executable, "-m", "celery", "-A", "atb", *celery_args, "--loglevel=INFO"]
        )

    def start_web(self, port: int, name: str = "web") -> subprocess.Popen:
        """The web process as deployed: gunicorn, production settings."""
        gunicorn = [sys.executable, "-m", "gunicorn", "atb.wsgi", f"--bind=127.0.0.1:{port}", "--workers=1"]
        return self._start(name, [*gunicorn, "--threads=4", "--access-logfile=-"])

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        # Appended: a process restarted under the same name keeps what it logged before.
        log = open(self.log_dir / f"{name}.log", "a")  # noqa: SIM115 - closed with the process
        if os.environ.get("TEST_CLOCK_SHIFT_DAYS") and command[1] == "-m":
            command = [command[0], str(PROJECT_ROOT / "tests" / "clock_shifted.py"), *command[2:]]
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=self._environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.running[name] = process
        return process

    def start_worker(self, name: str) -> subprocess.Popen:
        return self.start(
            name, "worker", "--concurrency=2", f"--hostname={name}@%h", "--without-gossip", "--without-mingle"
        )

    def start_beat(self, name: str = "beat") -> subprocess.Popen:
        return self.start(name, "beat", f"--pidfile={self.log_dir / f'{name}.pid'}")

    def kill(self, name: str) -> None:
        """SIGKILL the process and its pool: no shutdown handler runs."""
        process = self.running.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.running.clear()

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name} ---\n{path.read_text()[-4000:]}" for path in sorted(self.log_dir.glob("*.log"))
        )

    def wait_for(self, condition: Callable[[], bool], *, seconds: float, what: str) -> float:
        """Poll until the condition holds; returns the seconds it took, or fails with the logs."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if condition():
                return time.monotonic() - started
            for name, process in self.running.items():
                assert process.poll() is None, f"{name} exited early:\n{self.logs()}"
            time.sleep(0.2)
        raise AssertionError(f"Not within {seconds:.0f} s: {what}\n{self.logs()}")
