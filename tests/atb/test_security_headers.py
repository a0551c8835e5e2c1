"""Headers and deployment checks a penetration tester looks at first."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from django.urls import reverse

from tests.background import PROJECT_ROOT, url_of_the_test_database


def test_pages_carry_a_content_security_policy_without_inline_code(world, client_for):
    response = client_for(world.users["rah_coordinator"]).get(reverse("recovery_at_home:queue"))
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_only_the_api_docs_allow_inline_styles_for_swagger_ui(world, client_for):
    docs = client_for(world.users["gp_a"]).get(reverse("api:docs"))
    assert "style-src 'self' 'unsafe-inline'" in docs["Content-Security-Policy"]
    assert "script-src 'self';" in docs["Content-Security-Policy"] + ";"


def test_check_deploy_is_clean_with_production_settings(db):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECURE_SSL_REDIRECT", "SECURE_COOKIES")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="atb.settings",
        DATABASE_URL=url_of_the_test_database(),
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="atb.example.nhs.uk",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
