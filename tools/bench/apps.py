from django.apps import AppConfig


class BenchConfig(AppConfig):
    """What `make bench` adds to the portal to compare its pages with: a plain admin
    changelist of referrals and a trivial view. Installed by tools.bench.settings alone."""

    name = "tools.bench"
    label = "bench"
