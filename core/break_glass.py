"""Break-glass: a professional with no relationship to a person may still open their
record in an emergency, after saying why. Every such access is recorded as break-glass,
reported to administrators, and lasts only as long as the signed-in session."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from core.audit import record_event
from core.models import AuditAction, BreakGlassAccess, Patient


def active_grant(*, request: HttpRequest, patient_id: int) -> BreakGlassAccess | None:
    """The user's break-glass access to this patient in this session, if any."""
    session_key = request.session.session_key
    if not session_key or not request.user.is_authenticated:
        return None
    return (
        BreakGlassAccess.objects.filter(
            user=request.user,
            patient_id=patient_id,
            session_key=session_key,
            ended_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-granted_at")
        .first()
    )


@transaction.atomic
def break_glass(*, request: HttpRequest, patient: Patient, reason: str, explanation: str) -> BreakGlassAccess:
    """Open the record for the rest of this session; the grant and its audit event are
    saved together or not at all."""
    if not request.session.session_key:
        request.session.save()
    now = timezone.now()
    grant = BreakGlassAccess.objects.create(
        user=request.user,
        patient=patient,
        reason=reason,
        explanation=explanation,
        session_key=request.session.session_key,
        granted_at=now,
        expires_at=now + timedelta(seconds=settings.SESSION_ABSOLUTE_SECONDS),
    )
    record_event(
        request=request, action=AuditAction.BREAK_GLASS, patient=patient, obj=grant, detail=grant.reason_text
    )
    return grant


def end_session_grants(*, user, session_key: str | None) -> int:
    """Signing out ends the session's emergency accesses at once (the report shows when)."""
    if not session_key:
        return 0
    return BreakGlassAccess.objects.filter(user=user, session_key=session_key, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
