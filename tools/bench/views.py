from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def floor(request: HttpRequest) -> HttpResponse:
    """A trivial view behind the same middleware (session, user, CSP): the floor a page's
    own work is measured from."""
    return HttpResponse("ok", content_type="text/plain")
