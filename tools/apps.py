from django.apps import AppConfig


class ToolsConfig(AppConfig):
    """Commands that make data and measure the portal; no models, pages or admin."""

    name = "tools"
