from __future__ import annotations

from django.apps import AppConfig


class AtbConfig(AppConfig):
    name = "atb"
    label = "atb"
    verbose_name = "ATB core"

    def ready(self) -> None:
        from atb import signals  # noqa: F401  (sign-in events go to the audit trail)
