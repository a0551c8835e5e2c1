"""The signed-in session's own page: "stay signed in" before the idle timeout ends it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST


@never_cache
@require_POST
def stay_signed_in(request: HttpRequest) -> HttpResponse:
    """Renew the idle timeout (static/js/session.js asks, when its warning is answered).
    Saving the session moves its expiry on by SESSION_COOKIE_AGE; nothing else changes."""
    request.session.modified = True
    return HttpResponse(status=204)
