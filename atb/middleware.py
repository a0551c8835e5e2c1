"""Session limits the idle timeout alone cannot give."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect

SIGNED_IN_AT = "atb_signed_in_at"


class AbsoluteSessionLimitMiddleware:
    """Ends a session SESSION_ABSOLUTE_SECONDS (12 hours) after sign-in, even if busy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in_at = request.session.get(SIGNED_IN_AT) if request.user.is_authenticated else None
        if signed_in_at is not None and time.time() - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
            logout(request)
            messages.info(request, "Your session has ended after 12 hours. Please sign in again.")
            return redirect(settings.LOGIN_URL)
        return self.get_response(request)
