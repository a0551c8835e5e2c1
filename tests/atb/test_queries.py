"""List pages run a constant number of queries whatever the number of rows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditAction, AuditEvent
from tests.factories import PatientFactory


@pytest.mark.parametrize("patients", [5, 60])
def test_the_patient_list_runs_a_constant_number_of_queries(
    world, client_for, django_assert_max_num_queries, patients
):
    PatientFactory.create_batch(patients, practice=world.practice_a)
    client = client_for(world.users["mdt_coordinator_a"])
    # session, user, role grants, count of patients, savepoint, page of patients,
    # one audit insert for the page, release, savepoint, session renewal, release
    with django_assert_max_num_queries(12):  # memberships are read once, as ids
        response = client.get(reverse("patient_list"))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.LIST).count() == min(patients + 1, 25)


@pytest.mark.parametrize("patients", [5, 60])
def test_role_home_pages_run_a_constant_number_of_queries(
    world, client_for, django_assert_max_num_queries, patients
):
    PatientFactory.create_batch(patients, practice=world.practice_a)
    for user, url_name in [
        ("cit_member_a", "teams:my_caseload"),
        ("mdt_coordinator_a", "mdt:home"),
        ("rah_coordinator", "recovery_at_home:home"),
        ("service_manager", "service_overview"),
    ]:
        client = client_for(world.users[user])
        # session, user, role grants, at most three for the page's data, [the navigation's
        # alert count for Recovery at Home staff], savepoint, session renewal, release
        with django_assert_max_num_queries(10):
            assert client.get(reverse(url_name)).status_code == 200


def test_a_query_the_connection_repeats_is_planned_once(world, client_for):
    """Prepared statements (POSTGRES_PREPARED_STATEMENTS): after a few polls, the queue's
    queries run as statements PostgreSQL planned once on this connection."""
    from django.db import connection

    client = client_for(world.users["rah_coordinator"])
    for _ in range(7):
        assert client.get(reverse("recovery_at_home:queue_rows")).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans FROM pg_prepared_statements")
        prepared = dict(cursor.fetchall())
    (page_of_the_queue,) = [
        statement for statement in prepared if 'AS "reached"' in statement and "LIMIT" in statement
    ]
    # Its plan is reused, not made again for each poll (nothing in it hides the index).
    assert prepared[page_of_the_queue] > 0
