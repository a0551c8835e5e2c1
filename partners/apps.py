from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partner services and carers"
    default_auto_field = "django.db.models.BigAutoField"
