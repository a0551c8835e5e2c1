"""Beat sweeps for due alerts every minute; the policy starts at 30 and 15 minutes."""

from django.db import migrations


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name="Sweep Recovery at Home alerts",
        defaults={"task": "recovery_at_home.tasks.sweep_alerts", "interval": every_minute, "enabled": True},
    )
    apps.get_model("recovery_at_home", "AlertPolicy").objects.get_or_create(
        pk=1, defaults={"due_soon_minutes": 30, "escalate_after_minutes": 15}
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task="recovery_at_home.tasks.sweep_alerts"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("recovery_at_home", "0003_dispatch_outcomes_beds_alerts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
