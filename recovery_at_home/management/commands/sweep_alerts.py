from __future__ import annotations

from django.core.management.base import BaseCommand

from recovery_at_home import alerts


class Command(BaseCommand):
    help = "Run one alert sweep by hand (beat runs one every minute)."

    def handle(self, *args, **options):
        counts = alerts.sweep()
        self.stdout.write(", ".join(f"{kind}: {count}" for kind, count in counts.items()))
