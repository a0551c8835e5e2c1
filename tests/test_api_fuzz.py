"""Schemathesis against the OpenAPI schema: whatever it sends, no endpoint answers 5xx.

`make test` tries a few examples per operation; `make fuzz-api` many more
(FUZZ_EXAMPLES). The calls go to the Django app in-process, as a user who holds every
role and belongs to both teams and practices, so each endpoint is exercised past its
permission checks.
"""

from __future__ import annotations

import os

import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from core.models import Role
from tests.factories import UserFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
# The suite's run is the same every time; `make fuzz-api` explores afresh each run.
DERANDOMIZE = "FUZZ_EXAMPLES" not in os.environ


def test_no_request_makes_the_api_fail(world):
    user = UserFactory(
        username="fuzzer",
        roles=list(Role.values),
        practices=[world.practice_a, world.practice_b],
        teams=[world.team_a, world.team_b],
    )
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    schema.app = get_wsgi_application()
    operations = [result.ok() for result in schema.get_all_operations()]
    # As Django's test client does: the in-process app must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        _fuzz(operations, headers)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _fuzz(operations, headers):
    assert len(operations) >= 14  # referrals and their actions, the queue, a caseload, FHIR
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=DERANDOMIZE,
        )
        @given(case=operation.as_strategy())
        def no_server_error(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        no_server_error()
