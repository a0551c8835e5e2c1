"""Is the background (Redis: the Celery broker) reachable? Pages show a banner when it
is not, because alerts and emails then wait: referrals and every change are still saved
in PostgreSQL, and the alert sweep catches up when Redis returns."""

from __future__ import annotations

import time

import redis
from django.conf import settings

_last_check: dict[str, float | bool] = {"at": float("-inf"), "reachable": True}


def redis_status() -> str:
    if not settings.REDIS_URL:
        return "not configured (embedded broker)"
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
    except redis.RedisError as exc:
        return f"unreachable: {exc.__class__.__name__}"
    return "ok"


def background_degraded() -> bool:
    """True while Redis does not answer; checked at most every 15 seconds per process, so
    a busy page pays nothing and an outage costs each process one short timeout."""
    now = time.monotonic()
    if now - _last_check["at"] >= settings.BACKGROUND_RECHECK_SECONDS:
        _last_check["reachable"] = not redis_status().startswith("unreachable")
        _last_check["at"] = now
    return not _last_check["reachable"]


def forget_last_check() -> None:
    _last_check["at"] = float("-inf")
