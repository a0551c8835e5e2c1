from django.apps import AppConfig


class RecoveryAtHomeConfig(AppConfig):
    name = "recovery_at_home"
    verbose_name = "Recovery at Home"

    def ready(self):
        from recovery_at_home import signals  # noqa: F401  (the queue follows referrals' statuses)
