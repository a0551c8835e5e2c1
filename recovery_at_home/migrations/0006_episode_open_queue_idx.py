from django.db import migrations, models


class Migration(migrations.Migration):
    """The index after the data migration has committed, so it holds the open episodes alone;
    in the queue's own order, so that a page is read from it rather than sorted."""

    dependencies = [
        ("recovery_at_home", "0005_episode_queue_open"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="episode",
            index=models.Index(
                models.Case(models.When(arrived_at__isnull=True, then=models.Value(0)), default=models.Value(1)),
                models.F("response_due_at"),
                models.F("id"),
                condition=models.Q(("queue_open", True)),
                name="episode_open_queue_idx",
            ),
        ),
    ]
