"""The default triage categories: 1 hour crisis, 2 hours urgent community response,
4 hours same day. Administrators may change them afterwards."""

from django.db import migrations

DEFAULTS = [
    ("crisis", "Crisis (1 hour)", 60, False, 1),
    ("urgent", "Urgent community response (2 hours)", 120, True, 2),
    ("same_day", "Same day (4 hours)", 240, False, 3),
]


def create_categories(apps, schema_editor):
    TriageCategory = apps.get_model("recovery_at_home", "TriageCategory")
    for code, name, minutes, two_hour, order in DEFAULTS:
        TriageCategory.objects.get_or_create(
            code=code,
            defaults={"name": name, "response_minutes": minutes, "two_hour_standard": two_hour, "order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("recovery_at_home", "0001_initial")]

    operations = [migrations.RunPython(create_categories, migrations.RunPython.noop)]
