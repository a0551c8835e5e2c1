"""A crisis (1-hour) referral is a 2-hour urgent community response referral with a
stricter local target: nationally it counts in the 2-hour standard. The crisis category
is marked wherever it is still due within two hours (an administrator who lengthened it
past two hours keeps it out); other categories are left as they are."""

from django.db import migrations


def mark_crisis(apps, schema_editor):
    TriageCategory = apps.get_model("recovery_at_home", "TriageCategory")
    TriageCategory.objects.filter(code="crisis", response_minutes__lte=120).update(two_hour_standard=True)


class Migration(migrations.Migration):
    dependencies = [("recovery_at_home", "0008_episode_outcome_recorded_at")]

    operations = [migrations.RunPython(mark_crisis, migrations.RunPython.noop)]
