from django.apps import AppConfig


class RecoveryAtHomeConfig(AppConfig):
    name = "recovery_at_home"
    verbose_name = "Recovery at Home"
