from django.apps import AppConfig


class ClosedLoopConfig(AppConfig):
    name = "closed_loop"
    verbose_name = "Closing the loop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from closed_loop import receivers  # noqa: F401  (connects the signal receivers)
