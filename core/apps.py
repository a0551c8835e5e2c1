from __future__ import annotations

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from core.database_roles import grant_runtime_privileges


def _grant_after_migrating(sender, using, **kwargs) -> None:
    grant_runtime_privileges(using=using, connection=connections[using])


class CoreConfig(AppConfig):
    """The shared core: people, organisations, patients, the access rule, the audit trail
    and notifications. It imports no feature app.

    Its label stays "atb", the name these models had when they lived in the project
    package: the label names the tables (atb_patient), the migration history, the content
    types and AUTH_USER_MODEL ("atb.User"), so an existing database carries on unchanged."""

    name = "core"
    label = "atb"
    verbose_name = "ATB core"

    def ready(self) -> None:
        # Sign-in events go to the audit trail (receivers connect on import).
        from core import signals  # noqa: F401

        # After every app's migrations: a table added by any app is granted at once.
        post_migrate.connect(_grant_after_migrating, dispatch_uid="atb.grant_runtime_privileges")
