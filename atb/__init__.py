"""ATB Portal: the project package and the shared core (users, roles, organisations,
patients and the audit trail)."""

from atb.celery import app as celery_app

__all__ = ("celery_app",)
