"""Beat retries unsent emails every minute (the outbox sweep)."""

from django.db import migrations


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name="Send unsent emails",
        defaults={"task": "atb.tasks.send_unsent_emails", "interval": every_minute, "enabled": True},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task="atb.tasks.send_unsent_emails"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("atb", "0003_outbound_email")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
