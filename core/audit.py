"""Writing the audit trail. Every page or API response that shows a person calls one
of these, in the same transaction as the change it records.

The services that change records audit their own changes: the request being answered
(who, from where, which path) is known here for its duration (`AuditContextMiddleware`),
so a service called from a page, the API, FHIR or a task writes the same row; a task
has no request and names its user.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.views.csrf import csrf_failure as django_csrf_failure
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from core.models import AuditAction, AuditEvent, Patient

_current_request: ContextVar[HttpRequest | None] = ContextVar("audited_request", default=None)


@contextmanager
def auditing(request: HttpRequest):
    """The request the audit rows written meanwhile are about."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with auditing(request):
            return self.get_response(request)


class Refused(Http404):
    """Out of the user's relationship: to them, nothing is there (404). Raised with the
    person or record refused, so the one handler below records them."""

    def __init__(self, message: str = "Not found.", *, patient: Patient | None = None, obj=None):
        super().__init__(message)
        self.patient, self.obj = patient, obj


REFUSALS = (Http404, PermissionDenied, drf_exceptions.NotFound, drf_exceptions.PermissionDenied)


def record_refusal(request: HttpRequest, refusal: Exception) -> None:
    """Every refusal a signed-in user meets (a 404 out of their relationship, a 403 of a
    role), wherever it was raised: pages through the middleware, the API and FHIR through
    the API's exception handler. This is the one place they are written."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not isinstance(refusal, REFUSALS):
        return
    record_event(
        request=request,
        action=AuditAction.REFUSED,
        patient=getattr(refusal, "patient", None),
        obj=getattr(refusal, "obj", None),
        detail=f"{type(refusal).__name__}: {refusal}",
    )


class AuditRefusalsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        record_refusal(request, exception)


def csrf_failure(request, reason: str = ""):
    """Django's CSRF refusal answers without raising, so it is recorded here (CSRF_FAILURE_VIEW)."""
    record_refusal(request, PermissionDenied(f"CSRF check failed: {reason}"))
    return django_csrf_failure(request, reason)


def api_exception_handler(exc, context):
    """DRF's handler, after recording a refusal (DRF answers those itself, so the pages'
    middleware never sees them)."""
    record_refusal(context["request"]._request, exc)
    return drf_exception_handler(exc, context)


def client_ip(request: HttpRequest | None) -> str | None:
    """The address the request came from (REMOTE_ADDR; set by the proxy in production)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _event(
    *,
    request: HttpRequest | None = None,
    action: str,
    user=None,
    patient: Patient | None = None,
    obj: models.Model | None = None,
    detail: str = "",
    username: str = "",
) -> AuditEvent:
    if request is None:
        request = _current_request.get()
    if user is None and request is not None and request.user.is_authenticated:
        user = request.user
    if obj is None and patient is not None:
        obj = patient
    return AuditEvent(
        user=user,
        username=username or (user.get_username() if user else ""),
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        patient=patient,
        ip_address=client_ip(request),
        path=(request.get_full_path()[:500] if request is not None else ""),
        detail=detail[:500],
    )


def record_event(**kwargs) -> AuditEvent:
    """Record one event (a view, a change, a sign-in...)."""
    event = _event(**kwargs)
    event.save()
    return event


def record_patients_listed(
    *,
    request: HttpRequest,
    patients: Iterable[Patient | int],
    detail: str = "",
    unless_listed_within: timedelta | None = None,
) -> int:
    """Record that a list, search or export showed these patients (or patients' ids, as a
    list read as values has them): one row each, one query.

    A page that refreshes itself (the live queue) passes `unless_listed_within`, so a
    patient already recorded for this user in that time is not recorded again each poll.
    """
    patients = list(patients)
    if unless_listed_within is not None and patients:
        recent = set(
            AuditEvent.objects.filter(
                user=request.user,
                action=AuditAction.LIST,
                patient__in=[_pk(patient) for patient in patients],
                at__gte=timezone.now() - unless_listed_within,
            ).values_list("patient_id", flat=True)
        )
        patients = [patient for patient in patients if _pk(patient) not in recent]
    events = [
        _event(
            request=request,
            action=AuditAction.LIST,
            patient=patient if isinstance(patient, Patient) else Patient(pk=patient),
            detail=detail,
        )
        for patient in patients
    ]
    AuditEvent.objects.bulk_create(events)
    return len(events)


def _pk(patient: Patient | int) -> int:
    return patient if isinstance(patient, int) else patient.pk


def record_changes(*, request: HttpRequest, changed: Iterable[models.Model], detail: str = "") -> int:
    """A bulk change (one form, many records) audited per record, in one query: each
    object must have a `patient`."""
    events = [
        _event(request=request, action=AuditAction.UPDATE, patient=obj.patient, obj=obj, detail=detail)
        for obj in changed
    ]
    AuditEvent.objects.bulk_create(events)
    return len(events)
