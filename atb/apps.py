from __future__ import annotations

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from atb.database_roles import grant_runtime_privileges


def _grant_after_migrating(sender, using, **kwargs) -> None:
    grant_runtime_privileges(using=using, connection=connections[using])


class AtbConfig(AppConfig):
    name = "atb"
    label = "atb"
    verbose_name = "ATB core"

    def ready(self) -> None:
        from atb import signals  # noqa: F401  (sign-in events go to the audit trail)

        # After every app's migrations: a table added by any app is granted at once.
        post_migrate.connect(_grant_after_migrating, dispatch_uid="atb.grant_runtime_privileges")
