"""Partner staff's inbox and referral page; referring on and adding a carer from the
person's page, a caseload entry or a Recovery at Home episode; the social prescribing
figures."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.access import PARTNER_REFERRING_ROLES, PERFORMANCE_ROLES
from core.audit import Refused, record_event
from core.input import is_id
from core.models import AuditAction, Patient, Role, Service
from core.pages import audited_page
from core.permissions import people_page_for, role_required
from core.selectors import get_visible_patient
from partners import carers, figures, selectors, services
from partners.forms import CarerForm, DeclineForm, OutcomeForm, ReferOnForm, SupportForm, WellbeingForm
from referrals import services as referral_services
from referrals.models import OPEN_STATUSES, Referral


@people_page_for(Role.PARTNER_STAFF)
def inbox(request: HttpRequest) -> HttpResponse:
    show = "all" if request.GET.get("show") == "all" else "open"
    page, query = audited_page(
        request,
        selectors.partner_inbox(user=request.user, show=show),
        per_page=50,
        patients_of=lambda rows: [row.patient_id for row in rows],
        detail="partner inbox",
    )
    services_of = Service.objects.filter(pk__in=request.user.partner_service_ids)
    return render(
        request,
        "partners/inbox.html",
        {"page": page, "query_string": query, "show": show, "services": services_of},
    )


@transaction.atomic
def _referral_page(request, reference: str, *, forms: dict | None = None, status: int = 200) -> HttpResponse:
    referral = selectors.partner_referral(user=request.user, reference=reference)
    record_event(
        request=request,
        action=AuditAction.VIEW,
        patient=Patient(pk=referral.patient_id),
        obj=Referral(pk=referral.pk),
        detail="partner referral",
    )
    work = referral.work
    context = {
        "referral": referral,
        "open_statuses": OPEN_STATUSES,
        "decline_form": DeclineForm(),
        "support_form": SupportForm(
            initial={"needs": work.needs.all(), "support": work.support.all(), "offered": work.offered}
            if work
            else None
        ),
        "wellbeing_form": WellbeingForm(),
        "outcome_form": OutcomeForm(),
        **(forms or {}),
    }
    return render(request, "partners/referral.html", context, status=status)


@people_page_for(Role.PARTNER_STAFF)
def referral_page(request: HttpRequest, reference: str) -> HttpResponse:
    return _referral_page(request, reference)


ACTIONS = {
    "accept": None,
    "decline": DeclineForm,
    "support": SupportForm,
    "wellbeing": WellbeingForm,
    "outcome": OutcomeForm,
}
DONE = {
    "accept": "Accepted: the referrer is told.",
    "decline": "Declined: the referrer is told why.",
    "support": "Recorded what was offered.",
    "wellbeing": "Recorded the wellbeing answers.",
    "outcome": "Outcome recorded and the referral closed: the referrer and the person's team see it.",
}


@require_POST
@people_page_for(Role.PARTNER_STAFF)
def act(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Refused("No such action.")
    shown = selectors.partner_referral(user=request.user, reference=reference)  # 404 outside the scope
    referral = Referral.objects.select_related("service").get(pk=shown.pk)
    form_class = ACTIONS[action]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        return _referral_page(
            request, reference, forms={f"{action}_form": form, "open_form": action}, status=400
        )
    data = form.cleaned_data if form else {}
    try:
        if action in ("accept", "decline"):
            referral_services.act_on_referral(referral=referral, user=request.user, action=action, **data)
        elif action == "support":
            services.record_support(referral=referral, user=request.user, **data)
        elif action == "wellbeing":
            services.record_wellbeing(referral=referral, user=request.user, **data)
        else:
            services.record_outcome(referral=referral, user=request.user, **data)
    except (services.PartnerRefused, referral_services.TransitionRefused) as refused:
        # Someone acted first, or the referral moved on: the page shows it as it is now.
        messages.error(request, str(refused))
        return redirect("partners:referral", reference=reference)
    messages.success(request, DONE[action])
    return redirect("partners:referral", reference=reference)


def _back_to(request: HttpRequest, default: str) -> str:
    """Where the refer-on came from (the person's page, a caseload entry, an episode)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _person_to_refer(request: HttpRequest, pk: int) -> tuple[Patient, Patient]:
    """(the person referred, the person the user works with): the same, or a carer and
    the person they care for. Anyone else: 404, audited."""
    person = Patient.objects.filter(pk=pk, merged_into__isnull=True).first()
    through = carers.known_through(person=person, user=request.user) if person else None
    if through is None:
        raise Refused("No patient found.", patient=person)
    return person, through


@role_required(*PARTNER_REFERRING_ROLES)
def refer_on(request: HttpRequest, pk: int) -> HttpResponse:
    """Refer the person, or their carer, on to a partner: the service chosen on the page
    before (the first click), the reason ready, one more click to send."""
    person, through = _person_to_refer(request, pk)
    asked = request.GET.get("service", "")
    chosen = Service.objects.filter(kind=Service.Kind.PARTNER, pk=asked).first() if is_id(asked) else None
    form = ReferOnForm(request.POST if request.method == "POST" else None, service=chosen)
    back = _back_to(request, through.get_absolute_url())
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.refer_to_partner(person=person, user=request.user, **form.cleaned_data)
        except (services.PartnerRefused, referral_services.TransitionRefused) as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Referral {referral.reference} is sent to {referral.service}.")
            return redirect(back)
    with transaction.atomic():
        for shown in {person, through}:
            record_event(
                request=request, action=AuditAction.VIEW, patient=shown, detail="refer on to a partner"
            )
        return render(
            request,
            "partners/refer_on.html",
            {"form": form, "person": person, "through": through, "back": back},
            status=400 if form.errors else 200,
        )


@role_required(*PARTNER_REFERRING_ROLES)
def add_carer(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_patient(request, pk)
    form = CarerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            link = carers.add_carer(cared_for=patient, user=request.user, **form.cleaned_data)
        except carers.CarerRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"{link.carer.full_name} is recorded as {patient.full_name}'s carer.")
            return redirect(f"{patient.get_absolute_url()}#carers")
    with transaction.atomic():
        record_event(request=request, action=AuditAction.VIEW, patient=patient, detail="add a carer")
        return render(
            request,
            "partners/add_carer.html",
            {"form": form, "patient": patient},
            status=400 if form.errors else 200,
        )


@role_required(*PERFORMANCE_ROLES)
def figures_page(request: HttpRequest) -> HttpResponse:
    return render(request, "partners/figures.html", {"figures": figures.partner_figures()})
