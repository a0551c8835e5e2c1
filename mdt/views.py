"""MDT pages: the coordinator's meetings, the agenda builder and the meeting record, the
printable agenda, "my MDT actions", and flagging a person for the MDT.

A meeting's pages exist only for the MDT coordinators of its practice (404 for anyone
else); every page that shows people records them in the audit trail.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.access import CLINICAL_STAFF, FLAGGING_ROLES
from core.audit import record_event, record_patients_listed
from core.input import posted_ids
from core.models import AuditAction, Patient, Role
from core.permissions import people_page_for, role_required
from core.selectors import get_visible_patient
from mdt import case_finding, selectors, services
from mdt.forms import (
    ActionForm,
    ActionStatusForm,
    AddItemForm,
    FlagForm,
    InviteForm,
    ItemForm,
    MeetingForm,
    ScheduleForm,
    share_choices,
)
from mdt.models import Action, CaseFindingSettings, Meeting


def _home_page(request: HttpRequest, status: int = 200, **bound) -> HttpResponse:
    today = timezone.localdate()
    meetings = selectors.meetings_visible_to(user=request.user).filter(
        starts_at__gte=timezone.now() - timedelta(weeks=8)
    )
    context = {
        "meetings": meetings.annotate(people=Count("items")).order_by("starts_at"),
        "meeting_form": MeetingForm(user=request.user),
        "schedule_form": ScheduleForm(user=request.user),
        "today": today,
        **bound,
    }
    return render(request, "mdt/home.html", context, status=status)


@role_required(Role.MDT_COORDINATOR)
def home(request: HttpRequest) -> HttpResponse:
    """The coordinator's coming and recent meetings, and forms to plan more."""
    return _home_page(request)


@role_required(Role.MDT_COORDINATOR)
@require_POST
def create_meeting(request: HttpRequest) -> HttpResponse:
    form = MeetingForm(request.POST, user=request.user)
    if form.is_valid():
        meeting = form.save(commit=False)
        meeting.coordinator = request.user
        meeting.save()
        messages.success(request, f"{meeting} is planned.")
        return redirect(meeting)
    return _home_page(request, status=400, meeting_form=form)


@role_required(Role.MDT_COORDINATOR)
@require_POST
def create_schedule(request: HttpRequest) -> HttpResponse:
    form = ScheduleForm(request.POST, user=request.user)
    if form.is_valid():
        schedule = form.save(commit=False)
        schedule.coordinator = request.user
        with transaction.atomic():
            schedule.save()
            made = services.generate_meetings(
                schedule=schedule, until=timezone.localdate() + timedelta(weeks=12)
            )
        messages.success(request, f"Schedule saved: {made} meetings planned for the next 12 weeks.")
        return redirect("mdt:home")
    return _home_page(request, status=400, schedule_form=form)


# The most pressing suggestions first; the rest behind "show all".
SUGGESTIONS_SHOWN = 50


def _meeting_page(
    request: HttpRequest, meeting: Meeting, status: int = 200, bound_item_form=None, **bound
) -> HttpResponse:
    """The agenda builder and the meeting's record, with any form just got wrong in place."""
    items = list(selectors.agenda(meeting=meeting))
    candidates = selectors.Suggestions()
    if not meeting.is_closed:
        limit = None if request.GET.get("suggestions") == "all" else SUGGESTIONS_SHOWN
        candidates = selectors.agenda_candidates(meeting=meeting, limit=limit)
    suggested = candidates.total
    item_forms = {item.pk: ItemForm(instance=item, prefix=f"item{item.pk}") for item in items}
    if bound_item_form is not None:
        item_forms[bound_item_form.instance.pk] = bound_item_form
    bound_action_form, action_item = bound.pop("action_form", None), bound.pop("action_form_item", None)
    for item in items:
        item.form = item_forms[item.pk]
        item.action_form = (
            bound_action_form if item.pk == action_item else ActionForm(prefix=f"action{item.pk}")
        )
    invite_form = bound.pop("invite_form", None) or InviteForm()
    share_choices(
        [*(item.form for item in items), *(item.action_form for item in items), invite_form],
        staff=("presenter", "owner", "staff"),
        teams=("owner_team",),
    )
    query = request.GET.get("q", "")[:100]
    found = list(selectors.search_practice_patients(meeting=meeting, query=query)) if query else []
    with transaction.atomic():
        record_patients_listed(
            request=request,
            patients=[item.patient for item in items] + [c.patient for c in candidates] + found,
            detail=f"MDT agenda: {meeting}",
        )
    return render(
        request,
        "mdt/meeting.html",
        {
            "meeting": meeting,
            "items": items,
            "candidates": candidates,
            "suggested": suggested,
            "query": query,
            "found": found,
            "attendees": list(meeting.attendees.select_related("user")),
            "events": list(meeting.events.select_related("user")),
            "invite_form": invite_form,
            "action_statuses": Action.Status.choices,
            **bound,
        },
        status=status,
    )


@people_page_for(Role.MDT_COORDINATOR)
def meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _meeting_page(request, selectors.meeting_for(user=request.user, meeting_id=meeting_id))


@people_page_for(Role.MDT_COORDINATOR)
def print_agenda(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The agenda on A4: the print stylesheet hides the portal around it."""
    found = selectors.meeting_for(user=request.user, meeting_id=meeting_id)
    items = list(selectors.agenda(meeting=found))
    with transaction.atomic():
        record_patients_listed(
            request=request, patients=[i.patient for i in items], detail=f"printed agenda: {found}"
        )
    attendees = list(found.attendees.all())
    return render(request, "mdt/print.html", {"meeting": found, "items": items, "attendees": attendees})


def _change(request: HttpRequest, meeting: Meeting, perform, done, patient: Patient | None = None):
    """Apply through the service, audit, and go back to the meeting; refusals are explained.
    `done` says what happened, or works it out from what the service returned."""
    try:
        with transaction.atomic():
            result = perform()
            done = done(result) if callable(done) else done
            detail = done + (f" (closed minutes: {_amendment(request)})" if meeting.is_closed else "")
            record_event(
                request=request, action=AuditAction.UPDATE, patient=patient, obj=meeting, detail=detail
            )
    except services.MeetingRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, done[:1].upper() + done[1:] + ".")
    return redirect(meeting)


def _posted_meeting(request: HttpRequest, meeting_id: int) -> Meeting:
    return selectors.meeting_for(user=request.user, meeting_id=meeting_id)


def _item_of(meeting: Meeting, item_id: int):
    item = meeting.items.select_related("patient").filter(pk=item_id).first()
    if item is None:
        raise Http404("No such agenda item.")
    item.meeting = meeting
    return item


def _amendment(request: HttpRequest) -> str:
    """The reason given for changing closed minutes, whichever form (prefix) sent it."""
    for name, value in request.POST.items():
        if name == "amendment_reason" or name.endswith("-amendment_reason"):
            return value[:500]
    return ""


@people_page_for(Role.MDT_COORDINATOR)
@require_POST
def add_item(request: HttpRequest, meeting_id: int) -> HttpResponse:
    found = _posted_meeting(request, meeting_id)
    form = AddItemForm(request.POST, meeting=found)
    if not form.is_valid():
        if "patient" in form.errors:
            raise Http404("No such patient of the practice.")
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(found)
    patient = form.cleaned_data["patient"]
    reason = form.cleaned_data["reason"].strip() or "Added by the coordinator"
    return _change(
        request,
        found,
        lambda: services.add_to_agenda(
            meeting=found,
            patient=patient,
            user=request.user,
            reason=reason,
            amendment_reason=_amendment(request),
        ),
        f"{patient.full_name} added to the agenda",
        patient,
    )


@people_page_for(Role.MDT_COORDINATOR)
@require_POST
def remove_item(request: HttpRequest, meeting_id: int, item_id: int) -> HttpResponse:
    found = _posted_meeting(request, meeting_id)
    item = _item_of(found, item_id)
    return _change(
        request,
        found,
        lambda: services.remove_from_agenda(
            item=item, user=request.user, amendment_reason=_amendment(request)
        ),
        f"{item.patient.full_name} removed from the agenda",
        item.patient,
    )


@people_page_for(Role.MDT_COORDINATOR)
@require_POST
def move_item(request: HttpRequest, meeting_id: int, item_id: int) -> HttpResponse:
    found = _posted_meeting(request, meeting_id)
    item = _item_of(found, item_id)
    steps = -1 if request.POST.get("direction") == "up" else 1
    return _change(
        request,
        found,
        lambda: services.move_item(
            item=item, user=request.user, steps=steps, amendment_reason=_amendment(request)
        ),
        "agenda reordered",
        item.patient,
    )


@people_page_for(Role.MDT_COORDINATOR)
@require_POST
def update_item(request: HttpRequest, meeting_id: int, item_id: int) -> HttpResponse:
    found = _posted_meeting(request, meeting_id)
    item = _item_of(found, item_id)
    form = ItemForm(request.POST, instance=item, prefix=f"item{item.pk}")
    if not form.is_valid():
        return _meeting_page(request, found, status=400, bound_item_form=form)
    fields = {
        name: form.cleaned_data[name] for name in ("presenter", "clinical_question", "discussion", "outcome")
    }
    return _change(
        request,
        found,
        lambda: services.update_item(
            item=item, user=request.user, amendment_reason=form.cleaned_data["amendment_reason"], **fields
        ),
        f"{item.patient.full_name}'s item saved",
        item.patient,
    )


@people_page_for(Role.MDT_COORDINATOR)
@require_POST
def invite(request: HttpRequest, meeting_id: int) -> HttpResponse:
    found = _posted_meeting(request, meeting_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _meeting_page(request, found, status=400, invite_form=form)
    return _change(
        request,
        found,
        lambda: services.invite(meeting=found, user=request.user, **form.cleaned_data),
        f"{form.cleaned_data['staff'] or form.cleaned_data['name']} invited",
    )


@people_page_for(Role.MDT_COORDINATOR)
@require_POST
def attendance(request: HttpRequest, meeting_id: int) -> HttpResponse:
    found = _posted_meeting(request, meeting_id)
    present = set(posted_ids(request.POST.getlist("present")))
    return _change(
        request,
        found,
        lambda: services.record_attendance(
            meeting=found, user=request.user, present=present, amendment_reason=_amendment(request)
        ),
        "attendance recorded",
    )


def _closed(meeting: Meeting) -> str:
    if services.sends_minutes_summary(meeting):
        return f"minutes closed; a summary is being emailed to {meeting.practice.name}"
    return (
        f"minutes closed; no summary was sent: {meeting.practice.name} has no email address "
        "(an administrator can add it)"
    )


STEPS = {
    "publish": (services.publish_agenda, "agenda published and attendees invited"),
    "held": (services.mark_held, "meeting recorded as held"),
    "close": (services.close_minutes, _closed),
}


@people_page_for(Role.MDT_COORDINATOR)
@require_POST
def step(request: HttpRequest, meeting_id: int, step: str) -> HttpResponse:
    if step not in STEPS:
        raise Http404("No such step.")
    found = _posted_meeting(request, meeting_id)
    perform, done = STEPS[step]
    return _change(request, found, lambda: perform(meeting=found, user=request.user), done)


@people_page_for(Role.MDT_COORDINATOR)
@require_POST
def add_action(request: HttpRequest, meeting_id: int, item_id: int) -> HttpResponse:
    found = _posted_meeting(request, meeting_id)
    item = _item_of(found, item_id)
    form = ActionForm(request.POST, prefix=f"action{item.pk}")
    if not form.is_valid():
        return _meeting_page(request, found, status=400, action_form=form, action_form_item=item.pk)
    return _change(
        request,
        found,
        lambda: services.add_action(item=item, user=request.user, **form.cleaned_data),
        f"action agreed for {item.patient.full_name}",
        item.patient,
    )


@role_required(*CLINICAL_STAFF)
@require_POST
def action_status(request: HttpRequest, action_id: int) -> HttpResponse:
    """Owners (or their team) and the practice's coordinators move an action on."""
    action = selectors.actions_of(user=request.user).filter(pk=action_id).first() or (
        Action.objects.filter(
            pk=action_id, item__meeting__in=selectors.meetings_visible_to(user=request.user)
        )
        .select_related("item__patient")
        .first()
    )
    if action is None:
        raise Http404("No such action of yours.")
    form = ActionStatusForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.set_action_status(action=action, user=request.user, **form.cleaned_data)
                record_event(
                    request=request,
                    action=AuditAction.UPDATE,
                    patient=action.item.patient,
                    obj=action,
                    detail=f"MDT action {form.cleaned_data['status']}",
                )
        except services.MeetingRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, f"Action {action.get_status_display().lower()}.")
    else:
        messages.error(request, "Choose open, done or cancelled.")
    return redirect(
        request.POST.get("next") if request.POST.get("next", "").startswith("/mdt/") else "mdt:my_actions"
    )


@role_required(*CLINICAL_STAFF)
def my_actions(request: HttpRequest) -> HttpResponse:
    actions = list(selectors.actions_of(user=request.user)[:200])
    with transaction.atomic():
        record_patients_listed(
            request=request, patients=[a.item.patient for a in actions], detail="my MDT actions"
        )
    return render(
        request,
        "mdt/my_actions.html",
        {"actions": actions, "today": timezone.localdate(), "statuses": Action.Status.choices},
    )


@require_POST
def flag(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Flag a person the user can see for their practice's next MDT, from the patient page."""

    patient = get_visible_patient(request, patient_id)
    if not request.user.has_role(*FLAGGING_ROLES):
        raise PermissionDenied("Your role does not include flagging for the MDT.")
    form = FlagForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the person should be discussed (up to 500 characters).")
        return redirect(patient)
    team = request.user.teams.filter(caseload_entries__patient=patient).first()
    try:
        with transaction.atomic():
            services.flag_for_mdt(
                patient=patient, user=request.user, reason=form.cleaned_data["reason"], team=team
            )
            record_event(
                request=request, action=AuditAction.UPDATE, patient=patient, detail="flagged for MDT"
            )
    except services.FlagRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{patient.full_name} is flagged for the practice's next MDT.")
    return redirect(patient)


@people_page_for(Role.MDT_COORDINATOR)
def case_finding_list(request: HttpRequest) -> HttpResponse:
    """Finding people before the crisis (`mdt.case_finding`): one of the coordinator's
    practices at a time, each person with why, added to the next meeting in one click."""
    practices = list(request.user.practices.order_by("name"))
    if not practices:
        raise Http404("You coordinate no practice's MDT.")
    chosen = next((p for p in practices if str(p.pk) == request.GET.get("practice")), practices[0])
    candidates = case_finding.case_finding(practice=chosen)
    upcoming = case_finding.next_meeting(practice=chosen)
    on_agenda = set(upcoming.items.values_list("patient_id", flat=True)) if upcoming is not None else set()
    with transaction.atomic():
        record_patients_listed(
            request=request, patients=[c.patient for c in candidates], detail=f"MDT case finding: {chosen}"
        )
    return render(
        request,
        "mdt/case_finding.html",
        {
            "practices": practices,
            "practice": chosen,
            "candidates": candidates,
            "upcoming": upcoming,
            "on_agenda": on_agenda,
            "settings": CaseFindingSettings.current(),
        },
    )
