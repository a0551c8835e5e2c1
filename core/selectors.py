"""Read-only queries shared by pages. Who may see which patient is `core.access`."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from core.access import NO_ONE, PARTNER_REFERRING_ROLES, patient_scope
from core.audit import Refused
from core.break_glass import active_grant
from core.models import (
    AuditEvent,
    BreakGlassAccess,
    Neighbourhood,
    Patient,
    Practice,
    Role,
    Service,
    User,
)
from core.uk_time import uk_day_start


def practices_served_by(*, user: User) -> QuerySet[Practice]:
    """Practices the user works for directly, or through their CIT's neighbourhood."""
    scope = NO_ONE
    if user.has_role(Role.REFERRER, Role.MDT_COORDINATOR):
        scope |= Q(pk__in=user.practice_ids)
    if user.has_role(Role.CIT_MEMBER):
        scope |= Q(neighbourhood__team__in=user.team_ids)
    return Practice.objects.filter(scope).select_related("neighbourhood")


def practices_for_record(*, user: User, patient: Patient) -> QuerySet[Practice]:
    """The practices a record's form offers: those the user serves, and the person's own
    (so staff without a practice, Recovery at Home's, can correct a phone number or the
    safety information and save, keeping the practice as it is)."""
    own = Q(pk=patient.practice_id) if patient.practice_id else NO_ONE
    served = practices_served_by(user=user).values("pk")
    return Practice.objects.filter(Q(pk__in=served) | own).select_related("neighbourhood")


def patients_visible_to(*, user: User) -> QuerySet[Patient]:
    return Patient.objects.filter(patient_scope(user=user)).select_related("practice__neighbourhood")


def neighbourhood_overview() -> QuerySet[Neighbourhood]:
    """Aggregates for managers: practices and registered patients per neighbourhood."""
    return (
        Neighbourhood.objects.select_related("team")
        .annotate(
            practice_count=Count("practices", distinct=True),
            patient_count=Count("practices__patients", distinct=True),
        )
        .order_by("name")
    )


def audit_events(
    *,
    patient: Patient | None = None,
    username: str = "",
    action: str = "",
    start=None,
    end=None,
) -> QuerySet[AuditEvent]:
    """The audit trail filtered as an administrator asks; days are UK days. A patient's
    events include those of any record merged into theirs."""
    events = AuditEvent.objects.select_related("user__organisation", "patient")
    if patient is not None:
        events = events.filter(Q(patient=patient) | Q(patient__merged_into=patient))
    if username:
        events = events.filter(Q(user__username__iexact=username) | Q(username__iexact=username))
    if action:
        events = events.filter(action=action)
    if start:
        events = events.filter(at__gte=uk_day_start(start))
    if end:
        events = events.filter(at__lt=uk_day_start(end + timedelta(days=1)))
    return events.order_by("-at", "-id")


def break_glass_accesses(*, start=None, end=None) -> QuerySet[BreakGlassAccess]:
    """Emergency accesses for the administrators' report, with how many times the record
    was opened under each."""
    accesses = BreakGlassAccess.objects.select_related("user__organisation", "patient__practice")
    if start:
        accesses = accesses.filter(granted_at__gte=uk_day_start(start))
    if end:
        accesses = accesses.filter(granted_at__lt=uk_day_start(end + timedelta(days=1)))
    return accesses.order_by("-granted_at", "-id")


def get_visible_patient(request: HttpRequest, pk: int, *, allow_break_glass: bool = False) -> Patient:
    """The patient if the user has a relationship with them; otherwise 404, audited. A
    record merged into another gives the one it was merged into. Where allowed (the
    read-only patient page), an emergency access granted in this session also opens the
    record and is put on `request.break_glass`."""
    request.break_glass = None
    visible = patients_visible_to(user=request.user)
    patient = visible.filter(pk=pk).first()
    if patient is not None:
        return patient
    record = Patient.objects.filter(pk=pk).first()
    if record is not None and record.merged_into_id:
        patient = visible.filter(pk=record.merged_into_id).first()
        if patient is not None:
            return patient
    if record is not None and allow_break_glass:
        grant = active_grant(request=request, patient_id=record.merged_into_id or record.pk)
        if grant is not None:
            request.break_glass = grant
            return grant.patient
    raise Refused("No patient found.", patient=record)


def partner_links_for(*, user: User, emergency: bool = False) -> dict:
    """What a page about a person offers for referring them on to a partner: whether the
    user may, and the partner services (none under emergency access)."""
    may = user.has_role(*PARTNER_REFERRING_ROLES) and not emergency
    return {
        "can_refer_on": may,
        "partner_services": list(Service.objects.filter(kind=Service.Kind.PARTNER)) if may else [],
    }
