"""Beat sweeps the responses owed to sending systems and the person's messages every minute:
what a worker could not send when the change was made goes then."""

from django.db import migrations

SCHEDULES = {
    "Send responses to sending systems": "closed_loop.tasks.send_system_responses",
    "Send messages to people and carers": "closed_loop.tasks.send_person_messages",
}


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    for name, task in SCHEDULES.items():
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "interval": every_minute, "enabled": True}
        )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=SCHEDULES.values()).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("closed_loop", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
