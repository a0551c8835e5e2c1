"""Community Integrated Team pages: the team's dashboard and caseload, "my caseload", one
caseload entry with its contacts and care plan, and accepting a referral onto the caseload.

A team's pages answer 404 to anyone who is not its member; every page that shows a
person records it in the audit trail.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.audit import record_changes, record_event
from core.input import posted_ids
from core.models import AuditAction, Practice, Role
from core.pages import audited_page
from core.permissions import people_page_for, role_required
from core.selectors import partner_links_for
from teams import selectors, services
from teams.entry_actions import ENTRY_ACTIONS, perform_entry_action
from teams.forms import (
    AcceptForm,
    CaseloadFilterForm,
    ContactForm,
    DischargeForm,
    GoalForm,
    GoalStatusForm,
    KeyWorkerForm,
    ReassignForm,
    ReviewForm,
)
from teams.models import CarePlanGoal, CaseloadEntry

PAGE_SIZE = 25


@role_required(Role.CIT_MEMBER)
def home(request: HttpRequest) -> HttpResponse:
    """A member of one team goes straight to it; a member of several chooses."""
    teams = list(selectors.teams_of(user=request.user))
    if len(teams) == 1:
        return redirect("teams:dashboard", team_id=teams[0].pk)
    return render(request, "teams/home.html", {"teams": teams})


@role_required(Role.CIT_MEMBER)
def dashboard(request: HttpRequest, team_id: int) -> HttpResponse:
    team = selectors.team_for(user=request.user, team_id=team_id)
    return render(
        request,
        "teams/dashboard.html",
        {
            "team": team,
            "teams": selectors.teams_of(user=request.user),
            "dashboard": selectors.team_dashboard(team=team),
            "members": services.key_workers_for(team=team),
        },
    )


def _listed_page(request: HttpRequest, entries, detail: str):
    return audited_page(
        request,
        entries,
        per_page=PAGE_SIZE,
        patients_of=lambda rows: [e.patient for e in rows],
        detail=detail,
    )


def _filters_from(form: CaseloadFilterForm) -> selectors.CaseloadFilters:
    if not form.is_valid():
        return selectors.CaseloadFilters()
    chosen = form.cleaned_data
    practice: Practice | None = chosen.get("practice")
    return selectors.CaseloadFilters(
        key_worker=chosen.get("key_worker"),
        discipline=chosen.get("discipline") or "",
        practice_id=practice.pk if practice else None,
        review=chosen.get("review") or "",
        flagged=bool(chosen.get("flagged")),
        sort=chosen.get("sort") or "review_due",
    )


@people_page_for(Role.CIT_MEMBER)
def caseload(request: HttpRequest, team_id: int) -> HttpResponse:
    team = selectors.team_for(user=request.user, team_id=team_id)
    filters = CaseloadFilterForm(request.GET or None, team=team)
    entries = selectors.open_caseload(team=team, filters=_filters_from(filters))
    page, query_string = _listed_page(request, entries, f"caseload: {team}")
    return render(
        request,
        "teams/caseload.html",
        {
            "team": team,
            "page": page,
            "filters": filters,
            "query_string": query_string,
            "reassign_form": KeyWorkerForm(team=team),
            "today": timezone.localdate(),
        },
    )


@people_page_for(Role.CIT_MEMBER)
@require_POST
def reassign(request: HttpRequest, team_id: int) -> HttpResponse:
    """Bulk reassignment from the caseload page: all the ticked entries, or none."""
    team = selectors.team_for(user=request.user, team_id=team_id)
    ticked = posted_ids(request.POST.getlist("entries"))
    form = ReassignForm(request.POST, team=team, entry_ids=ticked)
    if form.is_valid():
        try:
            with transaction.atomic():
                moved = services.reassign_caseload(
                    team=team,
                    entry_ids=form.cleaned_data["entries"],
                    key_worker=form.cleaned_data["key_worker"],
                    user=request.user,
                )
                record_changes(
                    request=request, changed=moved, detail=f"key worker: {form.cleaned_data['key_worker']}"
                )
        except services.CaseloadRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, f"{len(moved)} reassigned to {form.cleaned_data['key_worker']}.")
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    return redirect("teams:caseload", team_id=team.pk)


@people_page_for(Role.CIT_MEMBER)
def my_caseload(request: HttpRequest) -> HttpResponse:
    entries = selectors.my_caseload(user=request.user)
    page, query_string = _listed_page(request, entries, "my caseload")
    return render(
        request,
        "teams/my_caseload.html",
        {"page": page, "query_string": query_string, "today": timezone.localdate()},
    )


def _visible_entry(request: HttpRequest, entry_id: int) -> CaseloadEntry:
    return selectors.entry_or_refusal(user=request.user, entry_id=entry_id)


def _entry_page(request: HttpRequest, entry: CaseloadEntry, status: int = 200, **bound) -> HttpResponse:
    """The entry's page, with any form the user just got wrong still holding what they typed."""
    team, user = entry.team, request.user
    forms = {
        "contact_form": ContactForm(team=team, user=user),
        "goal_form": GoalForm(),
        "review_form": ReviewForm(initial={"next_review_due": entry.review_due}),
        "discharge_form": DischargeForm(),
        "key_worker_form": KeyWorkerForm(team=team, initial={"key_worker": entry.key_worker_id}),
        **bound,
    }
    record_event(request=request, action=AuditAction.VIEW, patient=entry.patient, obj=entry)
    return render(
        request,
        "teams/entry.html",
        {
            "entry": entry,
            "goal_statuses": CarePlanGoal.Status.choices,
            **partner_links_for(user=user),
            **forms,
        },
        status=status,
    )


@people_page_for(Role.CIT_MEMBER)
def entry_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    return _entry_page(request, _visible_entry(request, entry_id))


def _entry_change(request: HttpRequest, entry: CaseloadEntry, form_name: str, form, change, done: str):
    """Validate, apply through the service (audited there), and come back; or show the
    errors in place."""
    if form.is_valid():
        try:
            change(form.cleaned_data)
        except services.CaseloadRefused as refused:
            messages.error(request, str(refused))  # what changed meanwhile; the typed form stays
        else:
            messages.success(request, done[:1].upper() + done[1:] + ".")
            return redirect(entry)
    return _entry_page(request, entry, status=400, **{form_name: form})


def _entry_action(request: HttpRequest, entry_id: int, action: str, form_name: str) -> HttpResponse:
    """One of the entry page's forms (`teams.entry_actions`, as the API's)."""
    entry = _visible_entry(request, entry_id)
    chosen = ENTRY_ACTIONS[action]
    form = chosen.form(request.POST, entry=entry, user=request.user)
    return _entry_change(
        request,
        entry,
        form_name,
        form,
        lambda data: perform_entry_action(entry=entry, user=request.user, action=action, data=data),
        chosen.done,
    )


@people_page_for(Role.CIT_MEMBER)
@require_POST
def record_contact(request: HttpRequest, entry_id: int) -> HttpResponse:
    return _entry_action(request, entry_id, "contacts", "contact_form")


@people_page_for(Role.CIT_MEMBER)
@require_POST
def add_goal(request: HttpRequest, entry_id: int) -> HttpResponse:
    return _entry_action(request, entry_id, "goals", "goal_form")


@people_page_for(Role.CIT_MEMBER)
@require_POST
def goal_status(request: HttpRequest, entry_id: int, goal_id: int) -> HttpResponse:
    entry = _visible_entry(request, entry_id)
    goal = entry.goals.filter(pk=goal_id).first()
    if goal is None:
        raise Http404("No such goal.")
    return _entry_change(
        request,
        entry,
        "goal_status_form",
        GoalStatusForm(request.POST),
        lambda data: services.change_entry(
            entry=entry,
            user=request.user,
            done="goal updated",
            change=lambda: services.set_goal_status(goal=goal, user=request.user, status=data["status"]),
        ),
        "goal updated",
    )


@people_page_for(Role.CIT_MEMBER)
@require_POST
def review(request: HttpRequest, entry_id: int) -> HttpResponse:
    return _entry_action(request, entry_id, "reviews", "review_form")


@people_page_for(Role.CIT_MEMBER)
@require_POST
def change_key_worker(request: HttpRequest, entry_id: int) -> HttpResponse:
    return _entry_action(request, entry_id, "key-worker", "key_worker_form")


@people_page_for(Role.CIT_MEMBER)
@require_POST
def discharge(request: HttpRequest, entry_id: int) -> HttpResponse:
    return _entry_action(request, entry_id, "discharge", "discharge_form")


@people_page_for(Role.CIT_MEMBER)
def accept(request: HttpRequest, reference: str) -> HttpResponse:
    """Accept a referral to the team onto its caseload, choosing the key worker."""
    referral = selectors.team_referral_to_accept(user=request.user, reference=reference)
    form = AcceptForm(request.POST or None, team=referral.team)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.accept_onto_caseload(referral=referral, user=request.user, **form.cleaned_data)
        except services.CaseloadRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"{entry.patient} is on the caseload of {entry.team} with key worker {entry.key_worker}.",
            )
            return redirect(entry)
    record_event(
        request=request, action=AuditAction.VIEW, patient=referral.patient, obj=referral, detail="accept form"
    )
    return render(
        request,
        "teams/accept.html",
        {"referral": referral, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
