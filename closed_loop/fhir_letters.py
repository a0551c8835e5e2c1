"""The outcome letter for other systems: a FHIR R4 DocumentReference whose attachment is the
letter's PDF (read with the same relationship check as the page)."""

from __future__ import annotations

from datetime import UTC

from django.urls import reverse
from fhir.resources.R4B.documentreference import DocumentReference

from closed_loop.models import OutcomeLetter
from core.notifications import portal_link
from referrals.fhir import REFERRAL_REFERENCE, subject_as_sent
from referrals.identity import SentPerson

# SNOMED CT: 373942005 "Discharge summary"; 371531000 "Report of clinical encounter".
LETTER_TYPE = {
    OutcomeLetter.Occasion.RAH_DISCHARGE: ("373942005", "Discharge summary"),
    OutcomeLetter.Occasion.CASELOAD_DISCHARGE: ("373942005", "Discharge summary"),
    OutcomeLetter.Occasion.MDT_DISCUSSION: ("371531000", "Report of clinical encounter"),
}


def document_reference(letter: OutcomeLetter, *, as_sent: bool = False) -> dict:
    """The letter's DocumentReference. `as_sent`: for a reader who may not see the record
    (the sending system that referred), the person as it sent them."""
    code, display = LETTER_TYPE[letter.occasion]
    if as_sent:
        subject = subject_as_sent(SentPerson.from_stored(letter.referral.person_as_sent))
    else:
        subject = {"reference": f"Patient/{letter.patient_id}"}
    resource = {
        "resourceType": "DocumentReference",
        "id": str(letter.pk),
        "status": "current",
        "type": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]},
        "subject": subject,
        "date": letter.written_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "description": letter.title,
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "url": portal_link(reverse("fhir:binary", args=[letter.pk])),
                    "title": letter.title,
                }
            }
        ],
    }
    if letter.referral_id:
        resource["context"] = {
            "related": [{"identifier": {"system": REFERRAL_REFERENCE, "value": letter.referral.reference}}]
        }
    return DocumentReference.model_validate(resource).model_dump(mode="json", exclude_none=True)
