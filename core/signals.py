"""Sign-in, sign-out and failed sign-ins go to the audit trail."""

from __future__ import annotations

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from core.audit import record_event
from core.break_glass import end_session_grants
from core.middleware import SECOND_FACTOR_NEEDED, SIGNED_IN_AT
from core.models import AuditAction
from core.two_factor import second_factor_required


@receiver(user_logged_in)
def on_sign_in(sender, request, user, **kwargs):
    if request is not None:
        request.session[SIGNED_IN_AT] = time.time()
        request.session[SECOND_FACTOR_NEEDED] = second_factor_required(user)
    record_event(request=request, user=user, action=AuditAction.SIGN_IN)


@receiver(user_logged_out)
def on_sign_out(sender, request, user, **kwargs):
    if user is not None:
        record_event(request=request, user=user, action=AuditAction.SIGN_OUT)
        if request is not None:
            end_session_grants(user=user, session_key=request.session.session_key)


@receiver(user_login_failed)
def on_sign_in_failed(sender, credentials, request=None, **kwargs):
    record_event(
        request=request,
        action=AuditAction.SIGN_IN_FAILED,
        username=str(credentials.get("username", ""))[:150],
    )
