"""A database made before the layers moved (every app at its head of that day, with its
data) migrates forward with nothing lost: the core's models kept their tables under the
label "atb", and beat's schedule follows the tasks that moved to core.tasks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_celery_beat.models import PeriodicTask

from core.models import Neighbourhood
from core.tasks import record_heartbeat, send_unsent_emails

# The head before core/ existed (commit b11770e): each app's last migration then.
BEFORE_THE_LAYERS = [
    ("atb", "0011_patient_identity_bounds"),
    ("referrals", "0006_person_as_sent"),
    ("recovery_at_home", "0008_episode_outcome_recorded_at"),
    ("teams", "0001_initial"),
    ("mdt", "0003_mdt_schedules"),
]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_day_before_migrates_forward_with_its_rows():
    old = _migrate(BEFORE_THE_LAYERS).loader.project_state(BEFORE_THE_LAYERS).apps
    OldNeighbourhood = old.get_model("atb", "Neighbourhood")
    OldNeighbourhood.objects.create(name="Coalfields", code="coalfields-before")
    # Beat's schedule as that day's migrations wrote it (written again here: an earlier
    # transactional test may have emptied the tables).
    every_minute, _ = old.get_model("django_celery_beat", "IntervalSchedule").objects.get_or_create(
        every=1, period="minutes"
    )
    OldPeriodicTask = old.get_model("django_celery_beat", "PeriodicTask")
    for name, task in [
        ("Heartbeat (day before)", "atb.tasks.record_heartbeat"),
        ("Email (day before)", "atb.tasks.send_unsent_emails"),
    ]:
        OldPeriodicTask.objects.create(name=name, task=task, interval=every_minute)

    executor = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []

    assert Neighbourhood.objects.get(code="coalfields-before").name == "Coalfields"
    assert not PeriodicTask.objects.filter(task__startswith="atb.").exists()
    # beat sends what the worker knows by these names
    assert PeriodicTask.objects.get(name="Heartbeat (day before)").task == record_heartbeat.name
    assert PeriodicTask.objects.get(name="Email (day before)").task == send_unsent_emails.name
