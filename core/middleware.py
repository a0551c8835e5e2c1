"""Session limits the idle timeout alone cannot give."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

SIGNED_IN_AT = "atb_signed_in_at"
SECOND_FACTOR_NEEDED = "atb_second_factor_needed"


RENEWED_AT = "atb_renewed_at"


def _from_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def signed_out_for_htmx() -> HttpResponse:
    """What a page's htmx request (a poll, a partial) gets once nobody is signed in: 401,
    which htmx does not swap in, so the sign-in page never lands inside the page;
    static/js/session.js stops the page's polling and says so."""
    response = HttpResponse("You have been signed out.", status=401, content_type="text/plain")
    response["Cache-Control"] = "no-store"
    return response


class SignInRequiredMiddleware(LoginRequiredMiddleware):
    """Django's: every view needs a signed-in person unless marked otherwise; a page sends
    them to sign in, and a page's htmx request is told it is signed out instead."""

    def handle_no_permission(self, request, view_func):
        if _from_htmx(request):
            return signed_out_for_htmx()
        return super().handle_no_permission(request, view_func)


class SessionRenewalMiddleware:
    """Renews a signed-in session's idle timeout, at most once a SESSION_RENEW_SECONDS
    (instead of Django's SESSION_SAVE_EVERY_REQUEST, a database write per request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A session of its own only: an API call signed with a token has no session to renew.
        # A session saved anyway (changed by the view) is renewed by that save: noted, so
        # that the next request does not write it again.
        if request.session.session_key and request.user.is_authenticated:
            now = time.time()
            due = now - request.session.get(RENEWED_AT, 0) >= settings.SESSION_RENEW_SECONDS
            if due or request.session.modified:
                request.session[RENEWED_AT] = now
        return response


class NoStoreWhenSignedInMiddleware:
    """A signed-in page may show a person: the browser keeps no copy of it (no back-button
    view after signing out, nothing in a shared computer's cache)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated and "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response


class AbsoluteSessionLimitMiddleware:
    """Ends a session SESSION_ABSOLUTE_SECONDS (12 hours) after sign-in, even if busy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in_at = request.session.get(SIGNED_IN_AT) if request.user.is_authenticated else None
        if signed_in_at is not None and time.time() - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
            logout(request)
            messages.info(request, "Your session has ended after 12 hours. Please sign in again.")
            return signed_out_for_htmx() if _from_htmx(request) else redirect(settings.LOGIN_URL)
        return self.get_response(request)


class SecondFactorMiddleware:
    """Until a person who needs a second factor has given it, every page sends them to
    give it (or to set it up), and the API refuses. After django-otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        # Decided once, at sign-in (core.signals), so other pages pay no query for it.
        if (
            user.is_authenticated
            and request.session.get(SECOND_FACTOR_NEEDED)
            and not user.is_verified()
            and not self._exempt(request.path)
        ):
            if request.path.startswith(("/api/", "/fhir/")):
                return JsonResponse(
                    {"detail": "Give your second factor (two-factor sign-in) in the browser first."},
                    status=403,
                )
            return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        return path in {
            reverse("two_factor_verify"),
            reverse("two_factor_setup"),
            reverse("logout"),
        } or path.startswith(settings.STATIC_URL)
