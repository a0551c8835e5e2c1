"""Role checks for pages that show no patient (those answer 403); patient pages answer
404 outside the user's relationship, see `core.selectors.get_visible_patient`."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404


def role_required(*roles: str):
    def decorator(view_func):
        @wraps(view_func)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_role(*roles):
                raise PermissionDenied("Your role does not include this page.")
            return view_func(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def people_page_for(*roles: str):
    """Like `role_required`, for pages that show people: to anyone else such a page does
    not exist (404), as a record outside one's relationship does not."""

    def decorator(view_func):
        @wraps(view_func)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_role(*roles):
                raise Http404("No such page.")
            return view_func(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator
