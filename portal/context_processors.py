from __future__ import annotations

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from closed_loop.referrer_updates import unread_count
from core.access import BREAK_GLASS_ROLES, PATIENT_SEARCH_ROLES, RAH_STAFF
from core.health import background_degraded
from core.models import Role
from portal.navigation import workspaces_for
from recovery_at_home.alerts import unacknowledged_alerts


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    on_rah_duty = user.has_role(*RAH_STAFF)
    return {
        "background_degraded": background_degraded(),
        "on_rah_duty": on_rah_duty,
        # Counted only when a page shows it: the queue's htmx partials do not.
        "alert_count": SimpleLazyObject(_alert_count) if on_rah_duty else 0,
        "workspaces": workspaces_for(user),
        # The referrer's unread updates, counted only when a page shows them.
        "update_count": SimpleLazyObject(lambda: unread_count(user=user))
        if user.has_role(Role.REFERRER)
        else None,
        "can_find_patients": user.has_role(*PATIENT_SEARCH_ROLES),
        "can_break_glass": user.has_role(*BREAK_GLASS_ROLES),
        # For static/js/session.js: when an idle session ends, to warn before it does.
        "session_idle_seconds": settings.SESSION_COOKIE_AGE,
        "session_renew_seconds": settings.SESSION_RENEW_SECONDS,
    }


def _alert_count() -> int:
    return unacknowledged_alerts().count()
