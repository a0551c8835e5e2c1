"""The coded lists, seeded with plain labels after the social prescribing information
standard's headings; an administrator edits them (Partners: Terms)."""

from django.db import migrations

TERMS = {
    "need": [
        "Loneliness or isolation",
        "Caring for someone",
        "Money, benefits or debt",
        "Housing",
        "Low mood, stress or anxiety",
        "Getting out and about",
        "Managing at home",
        "Physical activity",
        "Bereavement",
        "Work, volunteering or learning",
        "Healthy eating",
        "Using the internet",
    ],
    "support": [
        "Carer's assessment",
        "A break for the carer",
        "Emotional support",
        "Benefits and money advice",
        "Befriending",
        "Community groups and activities",
        "Physical activity sessions",
        "Shopping, errands and practical help",
        "Home from hospital support",
        "Housing advice",
        "Digital help",
        "Put in touch with another service",
    ],
    "outcome": [
        "Joined a community group or activity",
        "Receiving a benefit or grant",
        "Carer's assessment completed",
        "Break for the carer arranged",
        "Feels less lonely",
        "Managing better at home",
        "Referred on to another service",
        "Declined support",
        "Could not be contacted",
        "Died",
    ],
}


def seed(apps, schema_editor):
    Term = apps.get_model("partners", "Term")
    for list_name, labels in TERMS.items():
        for order, label in enumerate(labels):
            Term.objects.get_or_create(list=list_name, label=label, defaults={"order": order})


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
