"""Administrators' view of the audit trail: search, a patient's access log for a
subject access request, and the break-glass report. Reading the audit trail is itself
audited."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from core.audit import record_event
from core.forms import AuditSearchForm, BreakGlassReportForm
from core.models import AuditAction, AuditEvent, Patient, Role
from core.models.audit import EMERGENCY_VIEW
from core.pages import audited_page
from core.permissions import people_page_for
from core.selectors import audit_events, break_glass_accesses

AUDIT_PAGE_SIZE = 50


@people_page_for(Role.ADMINISTRATOR)
def audit_search(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None)
    page, query_string = None, ""
    if form.is_bound and form.is_valid():
        criteria = form.cleaned_data
        patient = None
        if criteria["nhs_number"]:
            patient = Patient.objects.filter(nhs_number=criteria["nhs_number"]).first()
            if patient is None:
                form.add_error("nhs_number", "No patient with this NHS number is registered in the portal.")
        if form.is_valid():
            events = audit_events(
                patient=patient,
                username=criteria["username"].strip(),
                action=criteria["action"],
                start=criteria["start"],
                end=criteria["end"],
            )
            page, query_string = audited_page(
                request, events, per_page=AUDIT_PAGE_SIZE, patients_of=_patients_named, detail="audit search"
            )
    return render(
        request, "atb/audit_search.html", {"form": form, "page": page, "query_string": query_string}
    )


@people_page_for(Role.ADMINISTRATOR)
def patient_access_log(request: HttpRequest, pk: int) -> HttpResponse:
    """Who looked at this person's record, and when: printable for a subject access
    request. Includes records merged into theirs."""
    patient = get_object_or_404(Patient.objects.select_related("practice"), pk=pk)
    events = list(audit_events(patient=patient))
    record_event(
        request=request, action=AuditAction.VIEW, patient=patient, detail="access log (subject access)"
    )
    return render(
        request,
        "atb/access_log.html",
        {"patient": patient, "events": events, "printed_at": timezone.now()},
    )


@people_page_for(Role.ADMINISTRATOR)
def break_glass_report(request: HttpRequest) -> HttpResponse:
    """Every emergency access, with its reason and how often the record was opened
    under it, for the information governance review."""
    form = BreakGlassReportForm(request.GET or None)
    criteria = form.cleaned_data if form.is_bound and form.is_valid() else {}
    views = (
        AuditEvent.objects.filter(
            action=AuditAction.VIEW,
            user=OuterRef("user"),
            patient=OuterRef("patient"),
            at__gte=OuterRef("granted_at"),
            at__lte=Coalesce(OuterRef("ended_at"), OuterRef("expires_at")),
            detail__startswith=EMERGENCY_VIEW,
        )
        .values("user")
        .annotate(count=Count("pk"))
        .values("count")
    )
    accesses = break_glass_accesses(start=criteria.get("start"), end=criteria.get("end")).annotate(
        views=Coalesce(Subquery(views[:1]), 0)
    )
    page, query_string = audited_page(
        request, accesses, per_page=AUDIT_PAGE_SIZE, patients_of=_patients_named, detail="break-glass report"
    )
    return render(
        request,
        "atb/break_glass_report.html",
        {"form": form, "page": page, "query_string": query_string, "now": timezone.now()},
    )


def _patients_named(rows) -> Iterable[Patient]:
    """Each patient the rows name, once (an audit event or a grant names one or none)."""
    return {row.patient_id: row.patient for row in rows if row.patient_id}.values()
