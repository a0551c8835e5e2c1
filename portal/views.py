"""The pages that compose the features: the role home redirect, patients, a referral,
the managers' overview and dashboard, the referrals export, health."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from closed_loop.feedback_offers import may_offer_on_tablet
from closed_loop.forms import ContactConsentForm
from closed_loop.models import ContactConsent, PersonMessage
from closed_loop.outcome_letters import letter_for_referral
from core import leases
from core.access import (
    BREAK_GLASS_ROLES,
    CITY_WIDE_PERFORMANCE_ROLES,
    FIGURE_LIST_ROLES,
    FLAGGING_ROLES,
    PATIENT_SEARCH_ROLES,
    PERFORMANCE_ROLES,
    RAH_STAFF,
    REGISTERING_ROLES,
)
from core.audit import record_event, record_patients_listed
from core.break_glass import break_glass
from core.health import redis_status
from core.heartbeats import heartbeat_age, heartbeat_status
from core.models import AuditAction, Patient, Role, RoleGrant, Service
from core.models.audit import EMERGENCY_VIEW
from core.permissions import people_page_for, role_required
from core.replica import reports, streamed_from_reports
from core.selectors import (
    get_visible_patient,
    neighbourhood_overview,
    partner_links_for,
    patients_visible_to,
    practices_for_record,
    practices_served_by,
)
from mdt.forms import FlagForm
from mdt.selectors import discussions_of
from mdt.services import open_flag
from partners import carers
from portal import csds, exports, merging, performance
from portal.forms import BreakGlassForm, PatientForm, PeriodForm
from portal.merging import duplicate_candidates
from portal.navigation import workspaces_for
from portal.search import search_patients
from recovery_at_home import clock, reach
from recovery_at_home.alerts import SWEEP_HEARTBEAT
from recovery_at_home.forms import CLOCK_FORMS
from recovery_at_home.models import PlannedVisit
from recovery_at_home.services import (
    CLOCK_ACTIONS,
    ClockRefused,
    act_on_clock,
    check_may_act_on_clock,
    may_record_outcome,
)
from referrals import selectors as referral_selectors
from referrals import services as referral_services
from referrals.forms import CloseForm, DeclineForm, ExportForm, NoteForm, RedirectForm, WithdrawForm
from referrals.identity import SentPerson
from referrals.models import Referral
from referrals.selectors import referrals_of_patient
from teams.models import CaseloadEntry
from teams.selectors import caseload_of_patient

ALERT_SWEEP_STALE = timedelta(minutes=5)


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to their work; someone with no role yet is told why."""
    workspaces = workspaces_for(request.user)
    if workspaces:
        return redirect(workspaces[0].url_name)
    return render(request, "atb/no_role.html")


@role_required(*PATIENT_SEARCH_ROLES)
def patient_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    page = Paginator(search_patients(user=request.user, query=query), 25).get_page(request.GET.get("page"))
    with transaction.atomic():
        record_patients_listed(request=request, patients=page.object_list, detail=f"search: {query}")
    return render(
        request,
        "atb/patient_list.html",
        {
            "page": page,
            "query": query,
            "query_string": urlencode({"q": query}) if query else "",
            "can_register": request.user.has_role(*REGISTERING_ROLES),
        },
    )


def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The one place a professional sees the whole person: their record, referrals and
    timelines, Recovery at Home episodes, caseload entries with contacts and care plans,
    and whether they are waiting for an MDT."""
    patient = get_visible_patient(request, pk, allow_break_glass=True)
    if patient.pk != pk:
        return redirect(patient)  # a merged record: go to the one it became
    grant = request.break_glass
    record_event(
        request=request,
        action=AuditAction.VIEW,
        patient=patient,
        detail=f"{EMERGENCY_VIEW}{grant.reason_text}" if grant else "",
    )
    entries = list(caseload_of_patient(patient_id=patient.pk))
    my_teams = set(request.user.teams.values_list("pk", flat=True))
    # The carers are people of their own: shown here, so recorded as listed.
    carer_rows = carers.carers_of(patient=patient)
    record_patients_listed(
        request=request,
        patients=[row.link.carer for row in carer_rows],
        detail=f"carers of patient {patient.pk}",
    )
    return render(
        request,
        "atb/patient_detail.html",
        {
            "patient": patient,
            "referrals": referrals_of_patient(
                user=request.user, patient_id=patient.pk, whole_record=bool(grant)
            ),
            "caseload_entries": entries,
            "my_team_ids": my_teams,
            "contacts": sorted(
                (contact for entry in entries for contact in entry.contacts.all()),
                key=lambda c: c.at,
                reverse=True,
            )[:20],
            "mdt_flag": open_flag(patient=patient),
            "mdt_discussions": discussions_of(patient_id=patient.pk),
            "flag_form": FlagForm(),
            "can_flag": request.user.has_role(*FLAGGING_ROLES) and not grant,
            "break_glass": grant,
            **partner_links_for(user=request.user, emergency=bool(grant)),
            "carers": carer_rows,
            "carers_centre": carers.carers_centre(),
        },
    )


@role_required(*BREAK_GLASS_ROLES)
def break_glass_access(request: HttpRequest) -> HttpResponse:
    """Emergency access to a person outside the user's relationship, with a reason."""
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            patient = form.cleaned_data["patient"]
            if patients_visible_to(user=request.user).filter(pk=patient.pk).exists():
                messages.info(
                    request, "You already have access to this record; no emergency access was needed."
                )
                return redirect(patient)
            break_glass(
                request=request,
                patient=patient,
                reason=form.cleaned_data["reason"],
                explanation=form.cleaned_data["explanation"],
            )
            messages.warning(
                request, "Emergency access is recorded and open until you sign out. Administrators review it."
            )
            return redirect(patient)
        if "nhs_number" in form.errors and form.cleaned_data.get("reason"):
            record_event(
                request=request,
                action=AuditAction.REFUSED,
                detail="emergency access: no record for the NHS number typed "
                f"({request.POST.get('nhs_number', '')[:20]})",
            )
    return render(request, "atb/break_glass.html", {"form": form})


@role_required(*REGISTERING_ROLES)
def patient_create(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None, practices=practices_served_by(user=request.user))
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            patient = form.save()
            record_event(request=request, action=AuditAction.CREATE, patient=patient)
        messages.success(request, f"{patient.full_name} is registered.")
        return redirect(patient)
    return render(request, "atb/patient_form.html", {"form": form, "title": "Register a patient"})


def patient_update(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_patient(request, pk)
    form = PatientForm(
        request.POST or None,
        instance=patient,
        practices=practices_for_record(user=request.user, patient=patient),
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            record_event(
                request=request,
                action=AuditAction.UPDATE,
                patient=patient,
                detail="changed: " + ", ".join(form.changed_data),
            )
        messages.success(request, "The patient's details are saved.")
        return redirect(patient)
    if request.method == "GET":
        record_event(request=request, action=AuditAction.VIEW, patient=patient, detail="edit form")
    return render(
        request, "atb/patient_form.html", {"form": form, "patient": patient, "title": "Edit patient"}
    )


@role_required(Role.SERVICE_MANAGER, Role.ADMINISTRATOR)
def service_overview(request: HttpRequest) -> HttpResponse:
    """Aggregates only: no person is named here."""
    counts = dict(
        RoleGrant.objects.filter(user__is_active=True)
        .values("role")
        .annotate(staff=Count("id"))
        .values_list("role", "staff")
    )
    staff_by_role = {role: counts.get(role, 0) for role in Role.values}
    return render(
        request,
        "atb/service_overview.html",
        {
            "neighbourhoods": neighbourhood_overview(),
            "staff_by_role": [(Role(role).label, count) for role, count in staff_by_role.items()],
        },
    )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"unreachable: {exc.__class__.__name__}"
    return "ok"


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: 200 when the database and Redis answer."""
    checks = {"database": _check_database(), "redis": redis_status()}
    down = [name for name, result in checks.items() if result.startswith("unreachable")]
    if not down:
        sweep = _check_alert_sweep()
        checks["alert_sweep"] = sweep
        if sweep.startswith("stale"):
            down.append("alert_sweep")
    body = {"status": "unavailable" if down else "ok", "unavailable": down, "checks": checks}
    if "database" not in down:
        # Reported, not failed on: web pages still work while the worker is down.
        body["background_worker"] = heartbeat_status()
        holder = leases.holder_of(name=leases.BEAT)
        body["scheduler"] = f"led by {holder}" if holder else "no beat holds the lease"
    return JsonResponse(body, status=503 if down else 200)


def _check_alert_sweep() -> str:
    """The response-time alerts depend on the minute sweep: older than 5 minutes means
    no alert is being raised. A portal that never swept yet (just installed) is not down."""
    age = heartbeat_age(name=SWEEP_HEARTBEAT)
    if age is None:
        return "never run"
    seconds = int(age.total_seconds())
    return f"{'stale' if age > ALERT_SWEEP_STALE else 'ok'}: last sweep {seconds} seconds ago"


@people_page_for(Role.ADMINISTRATOR)
def duplicate_patients(request: HttpRequest) -> HttpResponse:
    """Records that look like one person, for an administrator to merge."""
    groups = duplicate_candidates()
    with transaction.atomic():
        record_patients_listed(
            request=request, patients=[p for group in groups for p in group], detail="possible duplicates"
        )
    return render(request, "atb/duplicates.html", {"groups": groups})


@people_page_for(Role.ADMINISTRATOR)
def merge_patients(request: HttpRequest, keep_id: int, duplicate_id: int) -> HttpResponse:
    """Compare two records side by side; merging moves everything onto the first."""
    records = Patient.objects.filter(pk__in=[keep_id, duplicate_id], merged_into__isnull=True).select_related(
        "practice"
    )
    by_pk = {patient.pk: patient for patient in records.annotate(referral_count=Count("referrals"))}
    if keep_id not in by_pk or duplicate_id not in by_pk:
        raise Http404("No such pair of records.")
    keep, duplicate = by_pk[keep_id], by_pk[duplicate_id]
    if request.method == "POST":
        try:
            with transaction.atomic():
                result = merging.merge_patients(keep=keep, duplicate=duplicate, user=request.user)
                moved = ", ".join(f"{count} {what}" for what, count in result.moved.items()) or "nothing else"
                for patient, detail in [
                    (keep, f"merged record #{duplicate.pk} into this one; moved {moved}"),
                    (duplicate, f"merged into record #{keep.pk}"),
                ]:
                    record_event(request=request, action=AuditAction.MERGE, patient=patient, detail=detail)
        except merging.MergeRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request, f"Merged: record #{duplicate.pk} is now part of #{keep.pk} ({moved} moved)."
            )
            return redirect("duplicate_patients")
    else:
        for patient in (keep, duplicate):
            record_event(request=request, action=AuditAction.VIEW, patient=patient, detail="merge comparison")
    return render(
        request,
        "atb/merge.html",
        {"keep": keep, "duplicate": duplicate},
    )


def _period_of(request: HttpRequest) -> tuple[PeriodForm, performance.Period]:
    """The period and locality asked for; a team member's own team's locality."""
    default = PeriodForm.default_period()
    form = PeriodForm(request.GET or None, initial={"start": default.start, "end": default.end})
    period = form.period() if form.is_valid() else default
    if not request.user.has_role(*CITY_WIDE_PERFORMANCE_ROLES):
        team = request.user.teams.select_related("neighbourhood").first()
        if team is None:
            raise Http404("No team of yours.")
        period = performance.Period(start=period.start, end=period.end, locality=team.neighbourhood)
        form.fields.pop("locality", None)
    return form, period


def _period_query(period: performance.Period) -> str:
    return urlencode(
        {
            "start": period.start,
            "end": period.end,
            **({"locality": period.locality.pk} if period.locality else {}),
        }
    )


@role_required(*PERFORMANCE_ROLES)
def performance_dashboard(request: HttpRequest) -> HttpResponse:
    """Figures and charts for a period and locality; aggregates only, so no audit of people.
    A team member sees their own team's locality."""
    form, period = _period_of(request)
    with reports():  # from the replica, when there is a fresh one
        figures = performance.dashboard(period)
    return render(
        request,
        "atb/performance.html",
        {
            "form": form,
            "period": period,
            "figures": figures,
            "standard": clock.UCR_AMBITION,
            # The referrals behind each national figure, for those who may see them.
            "lists_figures": request.user.has_role(*FIGURE_LIST_ROLES),
            "period_query": _period_query(period),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


FIGURE_PAGE_SIZE = 50


@role_required(*FIGURE_LIST_ROLES)
def performance_figure(request: HttpRequest, name: str) -> HttpResponse:
    """The referrals behind one of the dashboard's national figures, those the user may see."""
    figure = performance.FIGURES.get(name)
    if figure is None:
        raise Http404("No such figure.")
    form, period = _period_of(request)
    invalid = form.is_bound and not form.is_valid()
    listed = performance.figure_list(user=request.user, period=period, name=name)
    # A period with errors lists nobody: the errors say what to change.
    page = Paginator(listed.none() if invalid else listed, FIGURE_PAGE_SIZE).get_page(
        request.GET.get("page", "")[:10]
    )
    with transaction.atomic():
        episodes = performance.with_reablement_clocks(list(page.object_list))
        record_patients_listed(
            request=request,
            patients=[episode.referral.patient_id for episode, _ in episodes],
            detail=f"Performance: {figure.label}",
        )
    return render(
        request,
        "atb/performance_figure.html",
        {
            "figure": figure,
            "name": name,
            "period": period,
            "form": form,
            "page": page,
            "episodes": episodes,
            "period_query": _period_query(period),
        },
        status=400 if invalid else 200,
    )


# The clock's forms on the referral page: the name each is shown under, and its ids (the
# page holds several forms with a "note" or a "reason").
CLOCK_PAGE_FORMS = {
    "triage": ("triage_form", "triage_%s"),
    "agree-later": ("agreed_later_form", "later_%s"),
    "dispatch": ("dispatch_form", "dispatch_%s"),
    "outcome": ("outcome_form", "outcome_%s"),
    "arrival": ("arrival_form", "arrival_%s"),
    "reablement-needed": ("reablement_need_form", "need_%s"),
    "reablement-started": ("reablement_start_form", "reablement_%s"),
    "plan-visit": ("plan_visit_form", "plan_%s"),
    "record-visit": ("record_visit_form", "record_%s"),
    "discharge-care": ("discharge_care_form", "discharge_%s"),
}


def _clock_forms(user, referral: Referral, bound: dict | None = None) -> dict:
    """The Recovery at Home clock's forms, for those who may use them; `bound` holds one
    that came back refused, with what was typed and why."""
    episode = getattr(referral, "episode", None)
    if episode is None or not user.has_role(Role.RAH_COORDINATOR, Role.RAH_RESPONDER):
        return {}
    coordinator = user.has_role(Role.RAH_COORDINATOR)
    care = getattr(episode, "care", None)
    in_care = care is not None and care.is_open
    offered = {
        "triage": coordinator,
        "agree-later": coordinator,
        "dispatch": coordinator,
        "outcome": may_record_outcome(user=user, referral=referral),
        "plan-visit": in_care,
        "record-visit": in_care,
        "discharge-care": in_care and coordinator,
    }
    initial = {"triage": {"category": episode.category}}
    forms = {}
    for action, (name, auto_id) in CLOCK_PAGE_FORMS.items():
        if not offered.get(action, True):
            forms[name] = None
        elif bound and action in bound:
            forms[name] = bound[action]
        else:
            forms[name] = CLOCK_FORMS[action](initial=initial.get(action), auto_id=auto_id)
    if forms.get("record_visit_form") is not None:  # this person's visits still to record
        to_record = care.visits.filter(state=PlannedVisit.State.PLANNED).select_related("responder")
        if not coordinator:  # a responder records their own
            to_record = to_record.filter(responder=user)
        forms["record_visit_form"].fields["visit"].queryset = to_record
    return forms


def _who_can_go(user, referral: Referral) -> list[reach.Suggestion] | None:
    """The responders on shift ranked for this referral, for a coordinator while the
    clock runs (None where the page offers no dispatch)."""
    episode = getattr(referral, "episode", None)
    if episode is None or not referral.is_open or not episode.clock_running:
        return None
    if not user.has_role(Role.RAH_COORDINATOR):
        return None
    return reach.suggest_responders(episode=episode)


def _care(referral: Referral) -> dict:
    """The short-term care that followed the response, with its visits, if any."""
    episode = getattr(referral, "episode", None)
    care = getattr(episode, "care", None) if episode is not None else None
    if care is None:
        return {}
    visits = list(care.visits.select_related("responder", "recorded_by").order_by("window_start", "pk"))
    return {"care": care, "care_visits": visits}


def _caseload_entry(referral: Referral):
    """The caseload entry this referral opened, if any: its work is managed there."""
    if referral.team_id is None:
        return None
    return CaseloadEntry.objects.filter(referral=referral).first()


def _clock_standards(referral: Referral) -> dict:
    episode = getattr(referral, "episode", None)
    return clock.standards_of(episode) if episode is not None else {}


def referral_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """One referral: its timeline and the receiving service's actions, with Recovery at
    Home's clock forms and the caseload entry it opened, for those who may use them."""
    referral = referral_selectors.referral_or_refusal(user=request.user, reference=reference)
    acting = referral_services.may_act_on(user=request.user, referral=referral)
    with transaction.atomic():
        if acting and referral_services.record_viewed_by_receiver(referral=referral, user=request.user):
            referral = referral_selectors.referral_for(user=request.user, reference=reference)
        return _referral_page(request, referral, acting=acting)


@require_POST
def referral_clock_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """One of the Recovery at Home clock's actions from the referral page
    (`act_on_clock`, as the API's). A refusal of what was typed comes back on the page,
    beside the field it is about and with what was typed; a refusal of the act itself
    (someone else acted first) returns to the page as it now is, saying why."""
    if action not in CLOCK_PAGE_FORMS:
        raise Http404("No such action on the clock.")
    referral = referral_selectors.referral_or_refusal(user=request.user, reference=reference)
    check_may_act_on_clock(user=request.user, referral=referral, action=action)
    form = CLOCK_FORMS[action](request.POST, auto_id=CLOCK_PAGE_FORMS[action][1])
    if form.is_valid():
        try:
            act_on_clock(referral=referral, user=request.user, action=action, **form.cleaned_data)
        except ClockRefused as refused:
            if refused.field not in form.fields:  # not a typing mistake: someone acted first
                messages.error(request, str(refused))
                return redirect(referral)
            form.add_error(refused.field, str(refused))
        else:
            messages.success(request, f"Referral {referral.reference}: {CLOCK_ACTIONS[action][2]}.")
            return redirect(referral)
    # Said at the top too, as the error summary does: the form may be further down.
    messages.error(
        request, "Not saved: " + " ".join(error for errors in form.errors.values() for error in errors)
    )
    with transaction.atomic():
        referral = referral_selectors.referral_for(user=request.user, reference=reference)
        acting = referral_services.may_act_on(user=request.user, referral=referral)
        return _referral_page(request, referral, acting=acting, bound={action: form}, status=400)


def _referral_page(
    request: HttpRequest, referral: Referral, *, acting: bool, bound: dict | None = None, status: int = 200
) -> HttpResponse:
    """The referral's page, its view audited (call inside the transaction that records it)."""
    record_event(request=request, action=AuditAction.VIEW, patient=referral.patient, obj=referral)
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "can_act": acting,
            "decline_form": DeclineForm(),
            "redirect_form": RedirectForm(),
            "close_form": CloseForm(),
            "withdraw_form": WithdrawForm(),
            "referrer_may_change": referral_services.may_change_as_referrer(
                user=request.user, referral=referral
            ),
            "versions": referral_selectors.versions_of(referral=referral),
            "note_form": NoteForm(),
            "caseload_entry": _caseload_entry(referral) if referral.shows_record else None,
            "sent_person": SentPerson.from_stored(referral.person_as_sent),
            "clock_standards": _clock_standards(referral) if referral.shows_record else {},
            **(_clock_forms(request.user, referral, bound) if referral.shows_record else {}),
            "who_can_go": _who_can_go(request.user, referral) if referral.shows_record else None,
            **(_care(referral) if referral.shows_record else {}),
            **(_person_messages(request.user, referral) if referral.shows_record else {}),
            "outcome_letter": letter_for_referral(referral=referral) if referral.shows_record else None,
            "offers_feedback": may_offer_on_tablet(user=request.user, referral=referral),
            **(_partners_for_referral(request, referral) if referral.shows_record else {}),
        },
        status=status,
    )


def _partners_for_referral(request: HttpRequest, referral: Referral) -> dict:
    """Referring on from a referral (a Recovery at Home episode): the partners, and when
    the carer is breaking down, the Carers Centre for the carer at once."""
    links = partner_links_for(user=request.user)
    centre = (
        carers.carers_centre() if links["can_refer_on"] and carers.needs_carer_support(referral) else None
    )
    offer = {"centre": centre, "carers": carers.carers_of(patient=referral.patient)} if centre else None
    if offer:
        record_patients_listed(
            request=request,
            patients=[row.link.carer for row in offer["carers"]],
            detail=f"carers of patient {referral.patient_id}",
        )
    return {**links, "carer_offer": offer}


def _person_messages(user, referral: Referral) -> dict:
    """Recovery at Home's staff see what the person agreed to be told, and what was sent."""
    if referral.service.code != Service.Code.RECOVERY_AT_HOME or not user.has_role(*RAH_STAFF):
        return {}
    consent = ContactConsent.objects.filter(patient=referral.patient).first()
    initial = (
        {
            "recipient": consent.recipient,
            "channel": consent.channel,
            "email": consent.email,
            "opted_out": consent.opted_out,
        }
        if consent
        else {}
    )
    return {
        "contact_consent": consent,
        "contact_consent_form": ContactConsentForm(initial=initial),
        "person_messages": PersonMessage.objects.filter(referral=referral).order_by("created_at")[:20],
    }


@role_required(Role.SERVICE_MANAGER, Role.ADMINISTRATOR)
@require_GET
def referral_export(request: HttpRequest) -> HttpResponse:
    """The referrals of a period as CSV (Community Services Data Set fields), streamed."""
    form = ExportForm(request.GET or None)
    if not form.is_valid():
        return render(request, "referrals/export.html", {"form": form}, status=400 if request.GET else 200)
    start, end = form.cleaned_data["received_from"], form.cleaned_data["received_to"]
    extract = form.cleaned_data["extract"] or "flat"
    lines, name = EXTRACTS[extract]
    record_event(
        request=request,
        action=AuditAction.LIST,
        detail=f"CSV export ({extract}) of referrals {start} to {end}",
    )
    response = StreamingHttpResponse(
        streamed_from_reports(lines(start=start, end=end)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}-{start}-to-{end}.csv"'
    return response


# The export form's extracts: (lines, file name).
EXTRACTS = {
    "flat": (exports.referral_lines, "atb-referrals"),
    "cyp101": (csds.cyp101_lines, "atb-csds-cyp101"),
    "cyp104": (csds.cyp104_lines, "atb-csds-cyp104"),
}
