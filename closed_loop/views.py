"""The referrer's pages: what happened to my referrals, and how I am told."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.response import Response

from closed_loop import (
    feedback_offers,
    fhir_letters,
    letter_documents,
    outcome_letters,
    person_messages,
    referrer_updates,
)
from closed_loop.forms import ContactConsentForm, UpdateSettingsForm
from closed_loop.models import OutcomeLetter
from core.access import RAH_STAFF
from core.audit import Refused, record_event
from core.models import AuditAction, Role
from core.pages import audited_page
from core.permissions import role_required
from feedback.services import FeedbackRefused
from referrals import selectors as referral_selectors
from referrals.fhir_views import FhirView
from referrals.identity import SentPerson

PAGE_SIZE = 30


def _page(request: HttpRequest, *, polled: bool = False):
    """A page of updates, the people they name audited as listed (a poll records a person
    already recorded in the last hour only once)."""
    page, _ = audited_page(
        request,
        referrer_updates.updates_for(user=request.user),
        per_page=PAGE_SIZE,
        patients_of=lambda rows: [update.referral.patient_id for update in rows],
        detail="referral updates",
        unless_listed_within=timedelta(hours=1) if polled else None,
    )
    return page


@role_required(Role.REFERRER)
@transaction.atomic
def updates(request: HttpRequest) -> HttpResponse:
    """The list, newest first, with the unread marked as new; opening it marks those shown
    as read (one arriving meanwhile stays new). It refreshes itself (UPDATES_POLL_SECONDS)."""
    page = _page(request)
    shown = referrer_updates.described(page.object_list)
    response = render(
        request,
        "closed_loop/updates.html",
        {"page": page, "updates": shown, "poll_seconds": settings.UPDATES_POLL_SECONDS},
    )
    referrer_updates.mark_read(user=request.user, shown=shown)
    return response


@require_GET
@role_required(Role.REFERRER)
@transaction.atomic
def updates_rows(request: HttpRequest) -> HttpResponse:
    """The list's rows, for htmx to swap in: progress appears without reloading."""
    page = _page(request, polled=True)
    shown = referrer_updates.described(page.object_list)
    return render(request, "closed_loop/_update_rows.html", {"updates": shown})


@role_required(Role.REFERRER)
def update_settings(request: HttpRequest) -> HttpResponse:
    form = UpdateSettingsForm(
        request.POST or None, initial={"emailed": sorted(referrer_updates.emailed_kinds(user=request.user))}
    )
    if request.method == "POST" and form.is_valid():
        referrer_updates.choose_emails(user=request.user, emailed=set(form.cleaned_data["emailed"]))
        messages.success(request, "Saved: you will be emailed about the updates you ticked.")
        return redirect("closed_loop:updates")
    return render(
        request, "closed_loop/update_settings.html", {"form": form}, status=400 if form.errors else 200
    )


@require_POST
@role_required(*RAH_STAFF)
@transaction.atomic
def contact_consent(request: HttpRequest, reference: str) -> HttpResponse:
    """Record, from the referral's page, whether and how the person or their carer is told
    that Recovery at Home is on its way or a visit changed."""
    referral = referral_selectors.referral_or_refusal(user=request.user, reference=reference)
    form = ContactConsentForm(request.POST)
    if form.is_valid():
        try:
            person_messages.record_consent(patient=referral.patient, user=request.user, **form.cleaned_data)
        except ValueError as refused:
            messages.error(request, f"Not saved: {refused}")
        else:
            messages.success(request, "Saved: what they agreed to be told.")
    else:
        messages.error(
            request, "Not saved: " + " ".join(e for errors in form.errors.values() for e in errors)
        )
    return redirect(referral)


@role_required(Role.REFERRER, Role.MDT_COORDINATOR)
@transaction.atomic
def letters(request: HttpRequest) -> HttpResponse:
    """The practice's outcome letters: about the people this user may see, newest first."""
    page, query_string = audited_page(
        request,
        outcome_letters.letters_visible_to(user=request.user),
        per_page=PAGE_SIZE,
        patients_of=lambda rows: [letter.patient_id for letter in rows],
        detail="outcome letters",
    )
    return render(request, "closed_loop/letters.html", {"page": page, "query_string": query_string})


def _letter_or_refusal(request: HttpRequest, pk: int) -> OutcomeLetter:
    letter = outcome_letters.letters_visible_to(user=request.user).filter(pk=pk).first()
    if letter is None:
        raise Refused("No outcome letter that you may see.", patient=_patient_of_letter(pk))
    return letter


def _patient_of_letter(pk: int):
    letter = OutcomeLetter.objects.filter(pk=pk).select_related("patient").first()
    return letter.patient if letter else None


@transaction.atomic
def letter(request: HttpRequest, pk: int) -> HttpResponse:
    """One letter, laid out to print on A4."""
    found = _letter_or_refusal(request, pk)
    record_event(
        request=request, action=AuditAction.VIEW, patient=found.patient, obj=found, detail="outcome letter"
    )
    return render(request, "closed_loop/letter.html", {"letter": found, "person": found.patient})


@transaction.atomic
def letter_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The same letter as a PDF (WeasyPrint), to file in the practice's record."""
    found = _letter_or_refusal(request, pk)
    record_event(
        request=request,
        action=AuditAction.VIEW,
        patient=found.patient,
        obj=found,
        detail="outcome letter PDF",
    )
    response = HttpResponse(letter_documents.pdf_of(found), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="outcome-letter-{found.pk}.pdf"'
    return response


class DocumentReferenceRead(FhirView):
    """FHIR R4 DocumentReference: an outcome letter, by the same relationship as its page;
    to the referral's own referrer without one (a sending system), naming the person as
    they sent them."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="FHIR R4 DocumentReference (outcome letter)")
    def get(self, request, pk: int):
        found, as_sent = _letter_for_system(request, pk)
        record_event(
            request=request, action=AuditAction.VIEW, patient=found.patient, obj=found, detail="FHIR"
        )
        return Response(fhir_letters.document_reference(found, as_sent=as_sent))


class LetterBinary(FhirView):
    """FHIR R4 Binary: the outcome letter's PDF, for a system reading it by token."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY}, summary="Outcome letter PDF")
    def get(self, request, pk: int):
        found, as_sent = _letter_for_system(request, pk)
        record_event(
            request=request, action=AuditAction.VIEW, patient=found.patient, obj=found, detail="FHIR Binary"
        )
        person = SentPerson.from_stored(found.referral.person_as_sent) if as_sent else None
        return HttpResponse(letter_documents.pdf_of(found, person=person), content_type="application/pdf")


def _letter_for_system(request, pk: int) -> tuple[OutcomeLetter, bool]:
    """The letter, and whether its reader sees the person only as they sent them."""
    found = outcome_letters.letters_visible_to(user=request.user).filter(pk=pk).first()
    if found is not None:
        return found, False
    found = outcome_letters.letter_for_its_referrer(user=request.user, pk=pk)
    if found is None:
        raise Refused("No outcome letter that you may see.", patient=_patient_of_letter(pk))
    return found, True


@require_POST
@transaction.atomic
def feedback_on_tablet(request: HttpRequest, reference: str) -> HttpResponse:
    """Open the feedback question for the person on this device, at the last visit: the
    page shows nothing of the record, and the link sent before stops working."""
    referral = referral_selectors.referral_or_refusal(user=request.user, reference=reference)
    try:
        token = feedback_offers.open_on_tablet(referral=referral, user=request.user)
    except FeedbackRefused as refused:
        messages.error(request, str(refused))
        return redirect(referral)
    return redirect("feedback:answer", token=token)
