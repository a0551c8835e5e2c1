"""Beat: overdue MDT action notices every hour (at most one a day per action) and the
schedules' coming meetings every day."""

from django.db import migrations


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    daily, _ = IntervalSchedule.objects.get_or_create(every=1, period="days")
    PeriodicTask.objects.update_or_create(
        name="Overdue MDT action notices",
        defaults={"task": "mdt.tasks.send_overdue_action_notices", "interval": hourly, "enabled": True},
    )
    PeriodicTask.objects.update_or_create(
        name="Plan MDT meetings from schedules",
        defaults={"task": "mdt.tasks.generate_upcoming_meetings", "interval": daily, "enabled": True},
    )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task__in=["mdt.tasks.send_overdue_action_notices", "mdt.tasks.generate_upcoming_meetings"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("mdt", "0002_meetings"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
