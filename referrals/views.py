"""Referral pages: refer, phone in, the referrer's lists, the receiving inbox, one referral."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.access import PHONE_IN_ROLES, RAH_STAFF, REFERRING_ROLES
from core.audit import record_event, record_patients_listed
from core.models import AuditAction, Role, Service
from core.nhs_numbers import normalise_nhs_number
from core.pages import audited_page
from core.permissions import role_required
from core.selectors import patients_visible_to
from referrals import selectors, services
from referrals.forms import (
    CloseForm,
    CorrectionForm,
    DeclineForm,
    NoteForm,
    RedirectForm,
    ReferralFilterForm,
    ReferralForm,
    WithdrawForm,
)

PAGE_SIZE = 25


def _referral_list(request: HttpRequest, referrals, template: str, context: dict) -> HttpResponse:
    """Filter, paginate and audit a list of referrals."""
    filters = ReferralFilterForm(request.GET or None)
    if filters.is_valid():
        referrals = selectors.filter_referrals(referrals, **filters.cleaned_data)
    page, query_string = audited_page(
        request,
        referrals,
        per_page=PAGE_SIZE,
        patients_of=lambda rows: [r.patient for r in rows],
        detail=context.get("title", "referrals"),
    )
    return render(
        request, template, {**context, "page": page, "filters": filters, "query_string": query_string}
    )


@role_required(Role.REFERRER)
def home(request: HttpRequest) -> HttpResponse:
    """The referrer's start: the referrals they made."""
    return _referral_list(
        request,
        selectors.my_referrals(user=request.user),
        "referrals/list.html",
        {"title": "My referrals", "tab": "mine"},
    )


@role_required(Role.REFERRER)
def practice_list(request: HttpRequest) -> HttpResponse:
    return _referral_list(
        request,
        selectors.practice_referrals(user=request.user),
        "referrals/list.html",
        {"title": "My practice's referrals", "tab": "practice"},
    )


@role_required(Role.RAH_COORDINATOR, Role.RAH_RESPONDER, Role.CIT_MEMBER)
def inbox(request: HttpRequest) -> HttpResponse:
    """The receiving inbox: Recovery at Home for its staff, otherwise the member's team."""
    teams = list(request.user.teams.all()) if request.user.has_role(Role.CIT_MEMBER) else []
    if request.user.has_role(*RAH_STAFF):
        service, team = Service.objects.get(code=Service.Code.RECOVERY_AT_HOME), None
    elif teams:
        service = Service.objects.get(code=Service.Code.COMMUNITY_INTEGRATED_TEAMS)
        chosen = request.GET.get("team")
        team = next((t for t in teams if str(t.pk) == chosen), teams[0])
    else:
        raise PermissionDenied("You are not a member of a team yet.")
    referrals = selectors.inbox(user=request.user, service=service, team_id=team.pk if team else None)
    return _referral_list(
        request,
        referrals,
        "referrals/inbox.html",
        {
            "title": f"Inbox: {team or service}",
            "teams": teams,
            "team": team,
            "can_phone_in": request.user.has_role(Role.RAH_COORDINATOR),
        },
    )


def _submit(request: HttpRequest, *, phone_in: bool) -> HttpResponse:
    form = ReferralForm(request.POST or None, user=request.user, phone_in=phone_in)
    if request.method == "POST" and form.is_valid():
        referral = services.submit_referral(
            person=form.person,
            service=form.cleaned_data["service"],
            team=form.cleaned_data.get("team"),
            referrer=form.referrer(),
            received_at=form.cleaned_data.get("call_started_at"),
            **{name: form.cleaned_data[name] for name in services.REFERRAL_DETAILS},
        )
        messages.success(
            request, f"Referral {referral.reference} is sent to {referral.team or referral.service}."
        )
        if selectors.may_open(user=request.user, referral=referral):
            return redirect(referral)
        # A phone-in for another service (a caller for a team) is that service's to open:
        # the coordinator goes on to the next call, told where it went.
        return redirect("referrals:phone_in" if phone_in else "referrals:home")
    return render(
        request,
        "referrals/form.html",
        {
            "form": form,
            "phone_in": phone_in,
            "title": "Phone-in referral" if phone_in else "Refer a patient",
        },
    )


@role_required(*REFERRING_ROLES)
def create(request: HttpRequest) -> HttpResponse:
    return _submit(request, phone_in=False)


@role_required(*PHONE_IN_ROLES)
def phone_in(request: HttpRequest) -> HttpResponse:
    return _submit(request, phone_in=True)


@role_required(*REFERRING_ROLES)
@require_GET
def patient_lookup(request: HttpRequest) -> HttpResponse:
    """The referral form's live check of an NHS number: says whether it is valid and,
    for the user's own patients only, who it is. Nobody else's record is revealed."""
    typed = request.GET.get("nhs_number", "")[:20].strip()
    context: dict = {"typed": typed}
    if typed:
        try:
            digits = normalise_nhs_number(typed)
        except ValidationError as invalid:
            context["error"] = invalid.messages[0]
        else:
            patient = patients_visible_to(user=request.user).filter(nhs_number=digits).first()
            context["patient"] = patient
            if patient is not None:
                record_patients_listed(request=request, patients=[patient], detail="referral form lookup")
    return render(request, "referrals/_patient_lookup.html", context)


IDENTITY_ACTIONS = {"confirm": services.confirm_identity, "separate": services.separate_identity}


@require_POST
def settle_identity(request: HttpRequest, reference: str, decision: str) -> HttpResponse:
    """The receiving service says who an "identity to confirm" referral is about."""
    referral = selectors.referral_or_refusal(user=request.user, reference=reference)
    if decision not in IDENTITY_ACTIONS:
        raise Http404("No such action.")
    try:
        IDENTITY_ACTIONS[decision](referral=referral, user=request.user)
    except services.TransitionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Referral {referral.reference}: identity settled.")
    return redirect(referral)


@require_POST
def withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    """The referrer withdraws a referral nobody has accepted yet."""
    referral = selectors.referral_or_refusal(user=request.user, reference=reference)
    if not services.may_change_as_referrer(user=request.user, referral=referral):
        raise PermissionDenied("Only the referrer can withdraw a referral.")
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(referral)
    try:
        services.withdraw_referral(referral=referral, user=request.user, reason=form.cleaned_data["reason"])
    except services.TransitionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Referral {referral.reference}: withdrawn.")
    return redirect(referral)


def correct(request: HttpRequest, reference: str) -> HttpResponse:
    """The referrer corrects what they sent, before anyone has accepted it."""
    referral = selectors.referral_or_refusal(user=request.user, reference=reference)
    if not services.may_change_as_referrer(user=request.user, referral=referral):
        raise PermissionDenied("Only the referrer can correct a referral.")
    form = CorrectionForm(request.POST or None, referral=referral)
    if request.method != "POST":
        record_event(
            request=request, action=AuditAction.VIEW, patient=referral.patient, obj=referral, detail="correct"
        )
    if request.method == "POST" and form.is_valid():
        try:
            services.correct_referral(referral=referral, user=request.user, **form.cleaned_data)
        except services.TransitionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request, f"Referral {referral.reference}: corrected; the service sees what changed."
            )
            return redirect(referral)
    return render(
        request,
        "referrals/correct.html",
        {"referral": referral, "form": form},
        status=400 if form.errors else 200,
    )


ACTION_FORMS = {"decline": DeclineForm, "redirect": RedirectForm, "close": CloseForm}


@require_POST
def act(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """Accept, decline, redirect, start, close (`services.act_on_referral`, as the API),
    or add a note."""
    referral = selectors.referral_or_refusal(user=request.user, reference=reference)
    if action == "note":
        form = NoteForm(request.POST)
        if form.is_valid():
            services.add_note(referral=referral, user=request.user, note=form.cleaned_data["note"])
            messages.success(request, "Note added.")
        else:
            messages.error(request, "The note is empty or too long.")
        return redirect(referral)
    if action not in services.ACTIONS:
        raise Http404("No such action.")
    if referral.team_id and action == "accept" and services.may_act_on(user=request.user, referral=referral):
        return redirect("teams:accept", reference=referral.reference)  # a key worker is chosen there
    form_class = ACTION_FORMS.get(action)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(referral)
    try:
        result = services.act_on_referral(
            referral=referral, user=request.user, action=action, **(form.cleaned_data if form else {})
        )
    except services.TransitionRefused as refused:
        messages.error(request, str(refused))
        return redirect(referral)
    done = services.ACTION_DONE[action]
    if action == "redirect":
        done += f" as {result.reference} to {result.team or result.service}"
    messages.success(request, f"Referral {referral.reference}: {done}.")
    return redirect(referral)
