"""The Celery application: Redis broker in production, a file-system broker for the demo.

Settings live in `atb.settings` under the CELERY_ prefix; schedules live in the
database (django-celery-beat), so exactly one `celery beat` must run.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atb.settings")

app = Celery("atb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
