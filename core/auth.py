"""Loading the signed-in user on each request."""

from __future__ import annotations

import time

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.db.models import Q

from core.middleware import SECOND_FACTOR_NEEDED, SIGNED_IN_AT
from core.models import User


class PortalBackend(ModelBackend):
    """Django's backend, but the user comes with their roles in the same query: every page
    and every poll of the queue asks for them (one query in seven of the queue's partial)."""

    def get_user(self, user_id):
        users = User._default_manager.filter(pk=user_id)
        if connection.vendor == "postgresql":
            from django.contrib.postgres.aggregates import ArrayAgg

            users = users.annotate(
                preloaded_roles=ArrayAgg("role_grants__role", filter=Q(role_grants__isnull=False))
            )
        user = users.first()
        return user if user is not None and self.user_can_authenticate(user) else None


def signed_in_session(user: User) -> str:
    """What signing in leaves in the session store, without a password check: the
    benchmarks' users are signed in this way so that they measure pages, not hashing."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = f"{PortalBackend.__module__}.{PortalBackend.__qualname__}"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SIGNED_IN_AT] = time.time()
    session[SECOND_FACTOR_NEEDED] = False
    session.create()
    return session.session_key
