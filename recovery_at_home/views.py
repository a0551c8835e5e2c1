"""Recovery at Home pages: the Leechmere base, the live queue, and the clock's actions."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.access import PHONE_IN_ROLES, RAH_STAFF
from core.audit import record_patients_listed
from core.models import BedUnit, Role, Service, User
from core.permissions import role_required
from core.uk_time import uk_day_start
from recovery_at_home import alerts, capacity, clock, rota, selectors, services
from recovery_at_home.forms import (
    ArrivalForm,
    DischargeForm,
    RecordVisitForm,
    ShiftChangeForm,
    ShiftForm,
    WeekForm,
)
from recovery_at_home.models import BedStay, PlannedVisit, Shift

QUEUE_FILTERS = ("category", "locality", "state", "unassigned")
SESSION_FILTERS = "rah_queue_filters"


@role_required(*RAH_STAFF)
def home(request: HttpRequest) -> HttpResponse:
    """The Leechmere base: the service, its bed units and the staff on its rota."""
    service = (
        Service.objects.filter(code=Service.Code.RECOVERY_AT_HOME)
        .prefetch_related(Prefetch("bed_units", queryset=BedUnit.objects.order_by("name")))
        .first()
    )
    staff = (
        User.objects.filter(is_active=True, role_grants__role__in=list(RAH_STAFF))
        .select_related("organisation")
        .distinct()
        .order_by("last_name", "first_name")
    )
    return render(request, "recovery_at_home/home.html", {"service": service, "staff": staff})


def _queue_staff_only(request: HttpRequest) -> None:
    """The queue shows people: outside Recovery at Home it does not exist (404)."""
    if not request.user.has_role(*RAH_STAFF):
        raise Http404("No such page.")


def _filters(request: HttpRequest) -> selectors.QueueFilters:
    """The coordinator's filters: from the request, else as they last left them."""
    if any(name in request.GET for name in QUEUE_FILTERS):
        chosen = {name: request.GET.get(name, "")[:40] for name in QUEUE_FILTERS}
        request.session[SESSION_FILTERS] = chosen
    else:
        chosen = request.session.get(SESSION_FILTERS, {})
    return selectors.QueueFilters(
        category=chosen.get("category", ""),
        locality=chosen.get("locality", ""),
        state=chosen.get("state", ""),
        unassigned=chosen.get("unassigned", "") in ("1", "on", "true"),
    )


def _queue_context(request: HttpRequest) -> dict:
    now = timezone.now()
    filters = _filters(request)
    after = selectors.QueueCursor.decode(request.GET.get("after", "")[:60])
    page = selectors.queue_page(filters=filters, now=now, after=after)
    record_patients_listed(
        request=request,
        patients=[row.patient_id for row in page.rows],
        detail="Recovery at Home queue",
        unless_listed_within=timedelta(minutes=15),
    )
    waiting, waiting_count = alerts.alerts_waiting()
    return {
        "rows": page.rows,
        "page": page,
        "filters": filters,
        "now": now,
        "poll_seconds": settings.RAH_QUEUE_POLL_SECONDS,
        "alerts": waiting,
        "alert_count": waiting_count,  # the navigation bar's too: counted once
        "can_acknowledge": request.user.has_role(Role.RAH_COORDINATOR),
    }


def queue(request: HttpRequest) -> HttpResponse:
    _queue_staff_only(request)
    return render(
        request,
        "recovery_at_home/queue.html",
        {
            **_queue_context(request),
            **selectors.filter_choices(),
            "clock_labels": dict(clock.ClockState.choices),
            "can_phone_in": request.user.has_role(*PHONE_IN_ROLES),
        },
    )


def queue_rows(request: HttpRequest) -> HttpResponse:
    """The queue's rows alone, fetched by the page every few seconds (htmx)."""
    _queue_staff_only(request)
    return render(request, "recovery_at_home/_queue_rows.html", {**_queue_context(request), "oob": True})


def queue_capacity(request: HttpRequest) -> HttpResponse:
    """Capacity against demand for the next hours, beside the queue (htmx, every minute:
    it moves more slowly than the rows). Counts only: no person is shown."""
    _queue_staff_only(request)
    return render(
        request,
        "recovery_at_home/_queue_capacity.html",
        {"capacity": capacity.capacity_ahead(now=timezone.now()), "per_person": capacity.PER_PERSON},
    )


@role_required(Role.RAH_RESPONDER)
def my_visits(request: HttpRequest) -> HttpResponse:
    """The responder's day, laid out for a tablet: first responses and the care visits
    planned for them, in time order."""
    now = timezone.now()
    day = selectors.responder_day(responder=request.user, now=now)
    record_patients_listed(
        request=request,
        patients=[item.patient for item in day],
        detail="My visits",
        unless_listed_within=timedelta(minutes=15),
    )
    return render(
        request,
        "recovery_at_home/my_visits.html",
        {"day": day, "arrival_form": ArrivalForm(), "now": now},
    )


def _own_visit(request: HttpRequest, pk: int):
    visit = selectors.visits_for(responder=request.user).filter(pk=pk).first()
    if visit is None:
        raise Http404("No such visit.")
    return visit


@require_POST
@role_required(Role.RAH_RESPONDER)
def on_the_way(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _own_visit(request, pk)
    try:
        services.record_on_the_way(dispatch=visit, user=request.user)
    except services.ClockRefused as refused:
        messages.error(request, str(refused))
    else:
        patient = visit.episode.referral.patient
        messages.success(
            request, f"On your way to {patient.full_name}: the coordinators see it on the queue."
        )
    return redirect("recovery_at_home:my_visits")


@require_POST
@role_required(Role.RAH_RESPONDER)
def visit_arrival(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _own_visit(request, pk)
    form = ArrivalForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("recovery_at_home:my_visits")
    try:
        services.record_responder_arrival(dispatch=visit, user=request.user, **form.cleaned_data)
    except services.ClockRefused as refused:
        messages.error(request, str(refused))
        return redirect("recovery_at_home:my_visits")
    referral = visit.episode.referral
    messages.success(request, f"Arrival with {referral.patient.full_name} recorded.")
    return redirect("recovery_at_home:my_visits")


@require_POST
@role_required(Role.RAH_RESPONDER)
def record_planned_visit(request: HttpRequest, pk: int) -> HttpResponse:
    """A care visit recorded from "My visits" (`care.record_visit`, as the referral page)."""
    visit = (
        PlannedVisit.objects.filter(pk=pk, responder=request.user)
        .select_related("care__episode__referral__patient")
        .first()
    )
    if visit is None:
        raise Http404("No such visit to record.")
    referral = visit.care.episode.referral
    form = RecordVisitForm({**request.POST.dict(), "visit": visit.pk})
    if not form.is_valid():
        messages.error(
            request, "Not saved: " + " ".join(e for errors in form.errors.values() for e in errors)
        )
        return redirect("recovery_at_home:my_visits")
    try:
        services.act_on_clock(
            referral=referral, user=request.user, action="record-visit", **form.cleaned_data
        )
    except services.ClockRefused as refused:
        messages.error(request, f"Not saved: {refused}")
    else:
        done = PlannedVisit.objects.get(pk=visit.pk).get_state_display().lower()
        messages.success(request, f"Visit to {referral.patient.full_name} recorded: {done}.")
    return redirect("recovery_at_home:my_visits")


def beds(request: HttpRequest) -> HttpResponse:
    """The bed board: each unit's beds, who is in them and for how long."""
    _queue_staff_only(request)
    units = list(
        BedUnit.objects.order_by("name").prefetch_related(
            Prefetch(
                "stays",
                queryset=BedStay.objects.filter(discharged_at__isnull=True)
                .select_related("patient", "episode__referral")
                .order_by("admitted_at"),
                to_attr="current_stays",
            )
        )
    )
    record_patients_listed(
        request=request,
        patients=[stay.patient for unit in units for stay in unit.current_stays],
        detail="Bed board",
        unless_listed_within=timedelta(minutes=15),
    )
    return render(
        request,
        "recovery_at_home/beds.html",
        {"units": units, "now": timezone.now(), "can_discharge": request.user.has_role(Role.RAH_COORDINATOR)},
    )


@require_POST
def discharge(request: HttpRequest, pk: int) -> HttpResponse:
    _queue_staff_only(request)
    stay = (
        BedStay.objects.filter(pk=pk, discharged_at__isnull=True).select_related("patient", "episode").first()
    )
    if stay is None:
        raise Http404("No such bed stay.")
    form = DischargeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.discharge_from_bed(stay=stay, user=request.user, note=note)
    except services.ClockRefused as refused:
        messages.error(request, str(refused))
        return redirect("recovery_at_home:beds")
    messages.success(request, f"{stay.patient.full_name} is discharged from {stay.bed_unit}.")
    return redirect("recovery_at_home:beds")


@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    _queue_staff_only(request)
    alert = alerts.unacknowledged_alerts().filter(pk=pk).first()
    if alert is None:
        messages.info(request, "That alert was already acknowledged.")
    elif alerts.acknowledge_alert(alert=alert, user=request.user):
        messages.success(
            request, f"{alert.get_kind_display()} alert for {alert.episode.referral.reference} acknowledged."
        )
    return redirect("recovery_at_home:queue")


def alert_count(request: HttpRequest) -> HttpResponse:
    """The navigation bar's live count of alerts waiting (htmx swaps it every 30 s)."""
    _queue_staff_only(request)
    return render(
        request, "recovery_at_home/_alert_count.html", {"alert_count": alerts.unacknowledged_alerts().count()}
    )


@role_required(*RAH_STAFF)
def rota_week(request: HttpRequest) -> HttpResponse:
    """The rota's week (Monday to Sunday, the one holding ?day=, this week by default),
    the hours in it nobody of a role is on shift, and, for coordinators, a shift to add."""
    form = WeekForm(request.GET or None)
    day = form.cleaned_data["day"] if form.is_valid() and form.cleaned_data["day"] else timezone.localdate()
    coordinator = request.user.has_role(Role.RAH_COORDINATOR)
    shift_form = ShiftForm(request.POST or None, auto_id="shift_%s") if coordinator else None
    if request.method == "POST":
        if shift_form is None:
            raise PermissionDenied("Only a Recovery at Home coordinator keeps the rota.")
        if shift_form.is_valid():
            try:
                shifts = rota.put_on_rota(user=request.user, **shift_form.cleaned_data)
            except rota.ShiftRefused as refused:
                shift_form.add_error(
                    refused.field if refused.field in shift_form.fields else None, str(refused)
                )
            else:
                added = f"{shifts[0]}" + (f", and {len(shifts) - 1} more like it" if len(shifts) > 1 else "")
                messages.success(request, f"On the rota: {added}.")
                return redirect(_rota_week_of(shifts[0]))
    if request.GET.get("view") == "day":
        shifts, hours = rota.day_of(day=day)
        return render(
            request,
            "recovery_at_home/rota_day.html",
            {
                "day": day,
                "shifts": shifts,
                "hours": hours,
                "previous": day - timedelta(days=1),
                "next": day + timedelta(days=1),
                "can_keep": coordinator,
            },
        )
    week = rota.week_of(day=day)
    since = max(uk_day_start(week[0].day), timezone.now())
    until = uk_day_start(week[-1].day + timedelta(days=1))
    gaps = {
        label: rota.cover_gaps(since=since, until=until, role=role) if since < until else []
        for role, label in ((Role.RAH_COORDINATOR, "coordinator"), (Role.RAH_RESPONDER, "responder"))
    }
    if since < until:
        gaps.update(rota.discipline_gaps(since=since, until=until))
    return render(
        request,
        "recovery_at_home/rota.html",
        {
            "week": week,
            "previous": week[0].day - timedelta(days=7),
            "next": week[0].day + timedelta(days=7),
            "gaps": gaps,
            "shift_form": shift_form,
            "can_keep": coordinator,
        },
        status=400 if shift_form is not None and shift_form.errors else 200,
    )


def _rota_week_of(shift: Shift) -> str:
    """The rota's week holding the shift's day: where a coordinator returns to."""
    return f"{reverse('recovery_at_home:rota')}?day={timezone.localdate(shift.starts_at)}"


@role_required(Role.RAH_COORDINATOR)
def shift_change(request: HttpRequest, pk: int) -> HttpResponse:
    """One shift, to change (its times, base, skills) or to take off the rota."""
    shift = get_object_or_404(Shift.objects.select_related("staff"), pk=pk)
    initial = {
        "starts_at": timezone.localtime(shift.starts_at),
        "ends_at": timezone.localtime(shift.ends_at),
        "base": shift.base,
        "skills": shift.skills,
    }
    form = ShiftChangeForm(request.POST or None, initial=initial, auto_id="shift_%s")
    back = _rota_week_of(shift)
    if request.method == "POST" and form.is_valid():
        try:
            shift = rota.change_shift(shift=shift, user=request.user, **form.cleaned_data)
        except rota.ShiftRefused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, str(refused))
        else:
            messages.success(request, f"Changed: {shift}.")
            return redirect(back)
    return render(
        request,
        "recovery_at_home/shift.html",
        {"shift": shift, "form": form, "back": back},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(Role.RAH_COORDINATOR)
def shift_remove(request: HttpRequest, pk: int) -> HttpResponse:
    shift = get_object_or_404(Shift.objects.select_related("staff"), pk=pk)
    back = _rota_week_of(shift)
    try:
        rota.remove_shift(shift=shift, user=request.user)
    except rota.ShiftRefused as refused:
        messages.error(request, str(refused))
        return redirect("recovery_at_home:shift_change", pk=shift.pk)
    messages.success(request, f"Taken off the rota: {shift}.")
    return redirect(back)
