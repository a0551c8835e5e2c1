from django.db import migrations, models


class Migration(migrations.Migration):
    """The index after the data migration has committed, so it holds the open episodes alone."""

    dependencies = [
        ("recovery_at_home", "0005_episode_queue_open"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="episode",
            index=models.Index(
                condition=models.Q(("queue_open", True)),
                fields=["response_due_at", "id"],
                name="episode_open_queue_idx",
            ),
        ),
    ]
