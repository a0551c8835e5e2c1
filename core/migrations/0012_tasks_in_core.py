"""The core's periodic tasks moved with their module from atb.tasks to core.tasks: beat's
schedule rows follow, so an existing database keeps its heartbeat and email retries."""

from django.db import migrations

MOVED = {
    "atb.tasks.record_heartbeat": "core.tasks.record_heartbeat",
    "atb.tasks.send_unsent_emails": "core.tasks.send_unsent_emails",
}


def _rename(apps, mapping: dict[str, str]) -> None:
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in mapping.items():
        PeriodicTask.objects.filter(task=old).update(task=new)


def forwards(apps, schema_editor):
    _rename(apps, MOVED)


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("atb", "0011_patient_identity_bounds"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
