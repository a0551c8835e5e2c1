"""The files that run the portal elsewhere stay true to the settings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _variables_read_by_settings() -> set[str]:
    source = (ROOT / "atb" / "settings.py").read_text()
    return set(re.findall(r"env(?:\.\w+)?\(\s*\"([A-Z_]+)\"", source))


def _variables_documented() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {match[1] for line in lines if (match := re.match(r"^(?:# )?([A-Z_]+)=", line))}


def test_env_example_documents_every_variable_the_settings_read():
    read = _variables_read_by_settings()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "EMAIL_URL"} <= read
    assert read - _variables_documented() == set(), "document these in .env.example"


def test_a_copied_env_example_leaves_the_demo_on_its_embedded_database_and_broker(tmp_path):
    """The README's `cp .env.example .env` must not switch `make demo` to a PostgreSQL
    server, a Redis or HTTPS it does not have: the settings read with the copy in place
    (the project package copied beside it, as BASE_DIR is the package's parent)."""
    shutil.copytree(ROOT / "atb", tmp_path / "atb", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    probe = (
        "from atb import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.SECURE_SSL_REDIRECT, s.DEBUG)"
    )
    demo_environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECURE_SSL_REDIRECT", "SECURE_COOKIES"}
        and not name.startswith("DJANGO_")
    }
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={**demo_environment, "DEBUG": "true", "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://", "False", "True"]


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.skipif(_compose_command() is None, reason="neither docker compose nor docker-compose here")
def test_docker_compose_accepts_the_compose_file():
    result = subprocess.run(
        [*_compose_command(), "config", "--services"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "SECRET_KEY": "compose-check"},
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"web", "worker", "beat", "postgres", "redis"}


def test_ci_runs_exactly_the_readme_test_command():
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert commands == ["make test"]
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


def test_the_readme_points_only_inside_the_repository_and_every_link_resolves():
    """A newcomer with only the clone must find what the README names: the design and the
    glossary in docs/, the screenshots, no file outside the repository."""
    readme = (ROOT / "README.md").read_text()
    assert "../" not in readme, "the README names a file outside the repository"
    links = re.findall(r"\]\(([^)#\s]+)\)", readme)
    assert {"docs/design.md", "docs/glossary.md"} <= set(links)
    missing = [link for link in links if "://" not in link and not (ROOT / link).exists()]
    assert missing == []
