"""Reports off the live path (core/replica.py): the dashboard and the exports read from the
replica when there is a fresh one, the live queue never does, and a replica that cannot
be reached leaves every report working on the primary.

The "replica" here is a second connection to the test database (committed rows, so it
sees what the primary wrote); what is checked is which connection each page reads on."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import replica

# The alias as DATABASE_REPLICA_URL makes it, registered before the test databases are set
# up, so the test framework mirrors it onto the test database. Reports use it only while
# REPORTS_FROM_REPLICA is on (the fixture), so no other test is routed by it.
connections.settings.setdefault(
    replica.REPLICA, {**connections.settings["default"], "TEST": {"MIRROR": "default"}}
)
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", replica.REPLICA])


@pytest.fixture
def replica_database(settings):
    """Configure reports to use the replica (with `PORT` to make it one that is down)."""
    alias = connections[replica.REPLICA]
    kept = dict(alias.settings_dict)

    def configure(**change):
        alias.close()
        alias.settings_dict.update(change)
        settings.REPORTS_FROM_REPLICA = True
        replica.forget_checks()

    yield configure
    alias.close()
    alias.settings_dict.clear()
    alias.settings_dict.update(kept)
    replica.forget_checks()


def _reads_on_the_replica(client, url, **params) -> tuple[int, int]:
    with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
        response = client.get(url, params)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    reads = [q for q in on_replica.captured_queries if "pg_is_in_recovery" not in q["sql"]]
    return response.status_code, len(reads)


def test_reports_read_the_replica_and_the_queue_never_does(world, client_for, replica_database):
    replica_database()
    manager = client_for(world.users["service_manager"])
    assert _reads_on_the_replica(manager, reverse("performance"))[1] > 5
    today = timezone.localdate().isoformat()
    status, reads = _reads_on_the_replica(
        manager, reverse("referral_export"), received_from=today, received_to=today
    )
    assert status == 200 and reads >= 1
    coordinator = client_for(world.users["rah_coordinator"])
    for url in (reverse("recovery_at_home:queue"), reverse("recovery_at_home:queue_rows"), "/api/rah/queue/"):
        status, reads = _reads_on_the_replica(coordinator, url)
        assert (status, reads) == (200, 0), url


def test_a_replica_that_cannot_be_reached_leaves_the_reports_on_the_primary(
    world, client_for, replica_database
):
    replica_database(PORT="1")  # nothing listens there
    manager = client_for(world.users["service_manager"])
    assert replica.reports_database() == "default"
    assert manager.get(reverse("performance")).status_code == 200


def test_without_a_replica_reports_read_the_primary(world):
    assert replica.reports_database() == "default"
