"""FHIR (R4, UK Core shapes) for other systems: a patient and a referral out, and referrals
in as Booking and Referral Standard (BaRS) messages.

Resources are built and validated with `fhir.resources` (its R4B models, the nearest to
R4 it ships: Patient, ServiceRequest, Bundle and MessageHeader are unchanged between
them). Nothing is saved from a message that does not validate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date

from django.db import IntegrityError, transaction
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from core.models import Patient, Practice, Service, StatedGender, User
from referrals import services
from referrals.identity import SentPerson
from referrals.models import InboundMessage, Reason, Referral, Source, Status, reasons_for
from referrals.selectors import redirect_chain
from referrals.serializers import SentPersonSerializer
from referrals.signals import referral_message_received

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
REFERRAL_REFERENCE = "https://atb-portal.nhs.uk/Id/referral-reference"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"

STATUS = {
    Status.RECEIVED: "active",
    Status.ACCEPTED: "active",
    Status.IN_PROGRESS: "active",
    Status.DECLINED: "revoked",
    Status.REDIRECTED: "revoked",
    Status.CLOSED: "completed",
    Status.WITHDRAWN: "revoked",
}
# Triage category -> FHIR request priority; untriaged Recovery at Home is urgent, teams routine.
PRIORITY = {"crisis": "stat", "urgent": "urgent", "same_day": "asap"}


# PERSON STATED GENDER CODE -> FHIR administrative gender (UK Core's mapping).
FHIR_GENDER = {
    StatedGender.MALE: "male",
    StatedGender.FEMALE: "female",
    StatedGender.INDETERMINATE: "other",
    StatedGender.NOT_KNOWN: "unknown",
}


def _instant(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def patient_resource(patient: Patient) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": {"profile": [UK_CORE + "UKCore-Patient"]},
        "identifier": [{"system": NHS_NUMBER, "value": patient.nhs_number}] if patient.nhs_number else None,
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
        "birthDate": patient.date_of_birth.isoformat() if patient.date_of_birth else None,
        "gender": FHIR_GENDER.get(patient.gender),
        "telecom": [{"system": "phone", "value": patient.phone}] if patient.phone else None,
        "address": (
            [{"line": [patient.address] if patient.address else None, "postalCode": patient.postcode or None}]
            if patient.address or patient.postcode
            else None
        ),
        "generalPractitioner": (
            [
                {
                    "identifier": {"system": ODS_CODE, "value": patient.practice.ods_code},
                    "display": patient.practice.name,
                }
            ]
            if patient.practice
            else None
        ),
    }
    return FhirPatient.model_validate(_without_empty(resource)).model_dump(mode="json", exclude_none=True)


def subject_as_sent(sent: SentPerson) -> dict:
    """A resource's subject as the sender described the person: never our record."""
    return _without_empty(
        {
            "identifier": {"system": NHS_NUMBER, "value": sent.nhs_number} if sent.nhs_number else None,
            "display": sent.full_name,
        }
    )


def _subject(referral: Referral) -> dict:
    """The record, to a viewer who may open it; otherwise the person as sent."""
    if referral.shows_record:
        return {"reference": f"Patient/{referral.patient_id}"}
    return subject_as_sent(referral.person)


def service_request_resource(referral: Referral) -> dict:
    # The clock's triage and due time are the receiving service's work: not for a sender.
    episode = getattr(referral, "episode", None) if referral.shows_record else None
    category = episode.category.code if episode is not None and episode.category else None
    if referral.service.code == Service.Code.RECOVERY_AT_HOME:
        priority = PRIORITY.get(category, "urgent")
    else:
        priority = "routine"
    resource = {
        "resourceType": "ServiceRequest",
        "id": referral.reference,
        "meta": {"profile": [UK_CORE + "UKCore-ServiceRequest"]},
        "identifier": [{"system": REFERRAL_REFERENCE, "value": referral.reference}],
        "status": STATUS[referral.status],
        "intent": "order",
        "priority": priority,
        "code": {"text": str(referral.team or referral.service)},
        "reasonCode": [{"text": referral.reason_other or referral.get_reason_display()}],
        "subject": _subject(referral),
        "authoredOn": _instant(referral.received_at),
        "requester": {"display": referral.referrer_display or referral.get_source_display()},
        "performer": [{"display": str(referral.team or referral.service)}],
        "occurrencePeriod": (
            {"start": _instant(referral.received_at), "end": _instant(episode.response_due_at)}
            if episode is not None
            else None
        ),
        "note": [{"text": referral.clinical_summary}] if referral.clinical_summary else None,
    }
    return ServiceRequest.model_validate(_without_empty(resource)).model_dump(mode="json", exclude_none=True)


def _without_empty(value):
    """FHIR forbids empty elements: drop None and empty lists and dicts."""
    if isinstance(value, dict):
        cleaned = {k: _without_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [item for item in (_without_empty(v) for v in value) if item not in (None, [], {})]
    return value


def operation_outcome(*issues: tuple[str, str], severity: str = "error") -> dict:
    """Errors as FHIR wants them: each (code, what went wrong)."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text} for code, text in issues],
    }
    return OperationOutcome.model_validate(outcome).model_dump(mode="json", exclude_none=True)


# --- Inbound BaRS messages -------------------------------------------------------------


class MessageRefused(Exception):
    """The message cannot become a referral; `issues` go back in an OperationOutcome."""

    def __init__(self, *issues: tuple[str, str]):
        super().__init__("; ".join(text for _, text in issues))
        self.issues = issues


@dataclass
class Received:
    referral: Referral
    created: bool


SOURCES = {
    "111": Source.NHS_111,
    "ambulance": Source.AMBULANCE,
    "999": Source.AMBULANCE,
    "hospital": Source.HOSPITAL_DISCHARGE,
    "discharge": Source.HOSPITAL_DISCHARGE,
    "care home": Source.CARE_HOME,
    "social care": Source.SOCIAL_CARE,
    "gp": Source.GP,
}


def _source(name: str) -> str:
    lowered = name.lower()
    return next((source for word, source in SOURCES.items() if word in lowered), Source.OTHER_PROFESSIONAL)


def _reason(texts: list[str], *, service: Service) -> tuple[str, str]:
    """(reason, the other reason): the first text naming a reason the service responds to,
    else "other" with the sender's words as they wrote them."""
    offered = reasons_for(service)
    for text in texts:
        lowered = text.strip().lower()
        for reason in offered:
            if reason == Reason.OTHER:
                continue  # "other" alone says nothing: the sender's words below say it
            if lowered and (
                lowered in (reason.value, reason.label.lower()) or reason.label.lower().startswith(lowered)
            ):
                return reason, ""
    given = "; ".join(text.strip() for text in texts if text.strip())
    return Reason.OTHER, (given or "Not given in the message")[:200]


def _one(resources: dict, kind: str, required: bool = True):
    found = resources.get(kind, [])
    if required and not found:
        raise MessageRefused(("required", f"The bundle has no {kind}."))
    return found[0] if found else None


def _parse(message: dict) -> Bundle:
    if not isinstance(message, dict) or message.get("resourceType") != "Bundle":
        raise MessageRefused(("structure", "Send a FHIR Bundle of type message."))
    try:
        bundle = Bundle.model_validate(message)
    except (KeyError, TypeError) as unknown:  # fhir.resources' lookup of a resourceType
        raise MessageRefused(
            ("structure", f"An entry's resource is not a FHIR R4 resource: {unknown}.")
        ) from None
    except ValidationError as invalid:
        raise MessageRefused(
            *(
                ("invalid", f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}")
                for error in invalid.errors()
            )
        ) from None
    if bundle.type != "message":
        raise MessageRefused(("structure", "The bundle's type must be message."))
    return bundle


def _person_from(fhir_patient) -> SentPerson:
    """The person as the message describes them, read through the same serializer (and
    bounds) as the API's: an error names the field."""
    nhs_number = next(
        (i.value for i in (fhir_patient.identifier or []) if i.system == NHS_NUMBER and i.value), None
    )
    name = (fhir_patient.name or [None])[0]
    ods = next(
        (
            gp.identifier.value
            for gp in (fhir_patient.generalPractitioner or [])
            if gp.identifier and gp.identifier.system == ODS_CODE
        ),
        None,
    )
    address = (fhir_patient.address or [None])[0]
    phone = next((t.value for t in (fhir_patient.telecom or []) if t.system == "phone"), "")
    birth = fhir_patient.birthDate
    incoming = SentPersonSerializer(
        data={
            "nhs_number": nhs_number,
            "given_name": " ".join(name.given or []) if name else "",
            "family_name": (name.family if name else "") or "",
            "date_of_birth": birth.isoformat() if isinstance(birth, date) else None,
            "practice": ods if ods and Practice.objects.filter(ods_code=ods).exists() else None,
            "address": ", ".join(address.line or []) if address else "",
            "postcode": (address.postalCode or "") if address else "",
            "phone": phone or "",
            "gender": {fhir: code for code, fhir in FHIR_GENDER.items()}.get(fhir_patient.gender, ""),
        }
    )
    if not incoming.is_valid():
        raise MessageRefused(*_issues("Patient", incoming.errors))
    return incoming.to_person()


def _issues(where: str, errors: dict) -> list[tuple[str, str]]:
    """A serializer's errors as OperationOutcome issues naming the element."""
    return [
        ("value", f"{where}.{name}: {' '.join(str(m) for m in messages)}")
        for name, messages in errors.items()
    ]


@transaction.atomic
def receive_message(*, message: dict, sender: User) -> Received:
    """A BaRS referral message: MessageHeader, ServiceRequest and Patient (Encounter, Flag
    and Consent optional) become a referral in the right inbox, once per message id."""
    bundle = _parse(message)
    resources: dict[str, list] = {}
    for entry in bundle.entry or []:
        if entry.resource is not None:
            resources.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    header = _one(resources, "MessageHeader")
    request = _one(resources, "ServiceRequest")
    fhir_patient = _one(resources, "Patient")
    message_id = header.id or (bundle.identifier.value if bundle.identifier else None)
    if not message_id:
        raise MessageRefused(("required", "The MessageHeader needs an id (the message id)."))

    already = InboundMessage.objects.filter(message_id=message_id).select_related("referral").first()
    if already is not None:
        if already.sender_id != sender.pk:  # another system's message: not this sender's to read
            raise MessageRefused(("duplicate", f"Message id {message_id} was used by another sender."))
        return Received(referral=already.referral, created=False)

    summary = _clinical_summary(request, resources)
    earlier = _referral_named(request, sender=sender)
    if earlier is not None or request.status in CANCELLING:
        return _cancel_or_update(
            request,
            earlier,
            sender=sender,
            message_id=message_id,
            summary=summary,
            person=_person_from(fhir_patient),
        )

    destination = " ".join(
        [d.name or "" for d in (header.destination or [])]
        + [p.display or "" for p in (request.performer or [])]
    ).lower()
    cit = "community" in destination or "integrated" in destination
    service = Service.objects.get(
        code=Service.Code.COMMUNITY_INTEGRATED_TEAMS if cit else Service.Code.RECOVERY_AT_HOME
    )
    person = _person_from(fhir_patient)
    team = services.route_to_team_of(practice=person.practice) if cit else None
    if cit and team is None:
        raise MessageRefused(
            ("business-rule", "A team referral needs the patient's GP practice (its ODS code).")
        )
    flags = [(f.code.text or "") for f in resources.get("Flag", []) if f.code]
    consent = _one(resources, "Consent", required=False)
    source_name = (header.source.name or header.source.endpoint or "") if header.source else ""
    requester = (request.requester.display or "") if request.requester else ""
    if len(requester) > Referral._meta.get_field("referrer_name").max_length:
        raise MessageRefused(
            ("value", "ServiceRequest.requester.display: too long (200 characters at most).")
        )
    reason, reason_other = _reason(_reason_texts(request), service=service)
    try:
        referral = services.submit_referral(
            person=person,
            service=service,
            team=team,
            referrer=services.Referrer(
                user=sender,
                name=requester,
                role=source_name[:100],
            ),
            source=_source(source_name or sender.get_full_name()),
            reason=reason,
            reason_other=reason_other,
            clinical_summary=summary,
            carer_breakdown=False,
            safeguarding_concern=any("safeguard" in text.lower() for text in flags),
            key_safe=any("key safe" in text.lower() for text in flags),
            consent_to_referral=True,  # the sending clinician's referral is made with consent (BaRS)
            consent_to_share=consent is not None and consent.status == "active",
        )
    except services.TransitionRefused as refused:
        raise MessageRefused(("business-rule", str(refused))) from None
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                message_id=message_id, sender=sender, referral=referral, service_request_id=request.id or ""
            )
    except IntegrityError:  # the same message, a moment ago, on another connection
        raise MessageRefused(("duplicate", f"Message {message_id} is being processed already.")) from None
    referral_message_received.send(sender=InboundMessage, message=message)
    return Received(referral=referral, created=True)


def _clinical_summary(request, resources: dict) -> str:
    """The notes, the Encounter's reasons and the Flags, as the referral's summary."""
    notes = [n.text for n in (request.note or []) if n.text]
    encounter = _one(resources, "Encounter", required=False)
    if encounter is not None:
        notes += [r.text for r in (getattr(encounter, "reasonCode", None) or []) if r.text]
    flags = [(f.code.text or "") for f in resources.get("Flag", []) if f.code]
    return "\n".join(notes + [f"Flag: {text}" for text in flags])[:4000]


def _reason_texts(request) -> list[str]:
    return [c.text or "" for c in (request.reasonCode or [])]


# A ServiceRequest sent again with one of these statuses cancels the referral; "active"
# (or "draft", "on-hold") updates it; anything else ("completed") is not the sender's to say.
CANCELLING = {"revoked", "entered-in-error"}
UPDATING = {"active", "draft", "on-hold"}


def _referral_named(request, *, sender: User) -> Referral | None:
    """The referral a cancel or update names: by a reference we gave (the identifier our
    ServiceRequests carry back, a redirected one's included), or by the sender's own
    ServiceRequest id; only among the referrals this sender's messages made (another
    system's referral is not found). A redirected referral is followed to where it went."""
    ours = [i.value for i in (request.identifier or []) if i.system == REFERRAL_REFERENCE and i.value]
    theirs = InboundMessage.objects.filter(sender=sender, kind=InboundMessage.Kind.REQUEST)
    if ours:
        referral = Referral.objects.filter(reference=ours[0]).select_related("service").first()
        if referral is None or not theirs.filter(referral=redirect_chain(referral)[-1]).exists():
            return None
    elif request.id:
        message = theirs.filter(service_request_id=request.id).select_related("referral__service").first()
        referral = message.referral if message else None
    else:
        return None
    while referral is not None and referral.status == Status.REDIRECTED:
        referral = Referral.objects.select_related("service").filter(redirected_from=referral).first()
    return referral


def _same_person(person: SentPerson, referral: Referral) -> bool:
    """Whether a cancel or update is about the person the referral was sent about: by NHS
    number when both have one, else by name and date of birth."""
    sent = SentPerson.from_stored(referral.person_as_sent)
    if person.nhs_number and sent.nhs_number:
        return person.nhs_number == sent.nhs_number
    return (person.family_name.lower(), person.date_of_birth) == (
        sent.family_name.lower(),
        sent.date_of_birth,
    )


def _cancel_or_update(
    request, referral: Referral | None, *, sender: User, message_id: str, summary: str, person: SentPerson
) -> Received:
    """BaRS cancellation (the ServiceRequest sent again as `revoked`) withdraws the referral;
    an update (sent again, still `active`) corrects it: the same services as the referrer's
    own buttons, so a referral already accepted is refused the same way."""
    if referral is None:
        raise MessageRefused(("not-found", "No referral from this sender has that ServiceRequest id."))
    if not _same_person(person, referral):
        raise MessageRefused(
            ("business-rule", "The Patient differs from the one this ServiceRequest was sent about.")
        )
    if request.status not in CANCELLING | UPDATING:
        raise MessageRefused(("business-rule", f"A ServiceRequest sent as {request.status} changes nothing."))
    notes = [n.text for n in (request.note or []) if n.text]
    try:
        if request.status in CANCELLING:
            kind = InboundMessage.Kind.CANCEL
            referral = services.withdraw_referral(
                referral=referral,
                user=sender,
                reason=("\n".join(notes) or "Cancelled by the sending system.")[:2000],
            )
        else:
            kind = InboundMessage.Kind.UPDATE
            reason, reason_other = _reason(_reason_texts(request), service=referral.service)
            wanted = {"reason": reason, "reason_other": reason_other, "clinical_summary": summary}
            changes = {name: value for name, value in wanted.items() if getattr(referral, name) != value}
            if changes or referral.status != Status.RECEIVED:  # once accepted: refused, as the page
                referral = services.correct_referral(referral=referral, user=sender, **changes)
    except services.TransitionRefused as refused:
        raise MessageRefused(("business-rule", str(refused))) from None
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                message_id=message_id,
                sender=sender,
                referral=referral,
                kind=kind,
                service_request_id=request.id or "",
            )
    except IntegrityError:
        raise MessageRefused(("duplicate", f"Message {message_id} is being processed already.")) from None
    referral_message_received.send(sender=InboundMessage, message=message)
    return Received(referral=referral, created=False)
