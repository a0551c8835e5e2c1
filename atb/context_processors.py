from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from atb.break_glass import BREAK_GLASS_ROLES
from atb.health import background_degraded
from atb.models import Role
from atb.navigation import workspaces_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    on_rah_duty = user.has_role(Role.RAH_COORDINATOR, Role.RAH_RESPONDER)
    return {
        "background_degraded": background_degraded(),
        "on_rah_duty": on_rah_duty,
        # Counted only when a page shows it: the queue's htmx partials do not.
        "alert_count": SimpleLazyObject(_alert_count) if on_rah_duty else 0,
        "workspaces": workspaces_for(user),
        "can_find_patients": user.has_role(Role.REFERRER, Role.CIT_MEMBER, Role.MDT_COORDINATOR),
        "can_break_glass": user.has_role(*BREAK_GLASS_ROLES),
    }


def _alert_count() -> int:
    from recovery_at_home.alerts import unacknowledged_alerts

    return unacknowledged_alerts().count()
