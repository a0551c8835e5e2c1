"""Recovery at Home hands a person over to their Community Integrated Team: a referral
made by the service, at the outcome of the urgent response or at the discharge from
short-term care."""

from __future__ import annotations

from core.models import Service, User
from referrals import services as referral_services
from referrals.identity import SentPerson
from referrals.models import REASONS_BY_SERVICE, Reason, Referral


def handover_reason(referral: Referral) -> tuple[str, str]:
    """(reason, reason_other) of the team's referral a hand-over makes: the person's own
    reason when the team responds to it (a fall), else "other", saying where it came from
    (not "follow-up after hospital discharge": most were never in hospital)."""
    if referral.reason in REASONS_BY_SERVICE[Service.Code.COMMUNITY_INTEGRATED_TEAMS]:
        return referral.reason, referral.reason_other
    words = f"Hand-over from Recovery at Home: {referral.reason_shown}"
    return Reason.OTHER, words[: Referral._meta.get_field("reason_other").max_length]


def hand_to_cit(*, referral: Referral, user: User, note: str) -> Referral:
    """The CIT referral a hand-over creates, routed to the patient's team, linked back."""
    reason, reason_other = handover_reason(referral)
    return referral_services.submit_referral(
        person=SentPerson.of_record(referral.patient),
        of_record=referral.patient,
        service=Service.objects.get(code=Service.Code.COMMUNITY_INTEGRATED_TEAMS),
        team=None,
        # The service refers, not the person who pressed the button: they are not the
        # team's referrer (nor emailed as one), but the timeline and audit name them.
        referrer=referral_services.Referrer(
            name="Recovery at Home", role="hand-over", phone=user.phone, recorded_by=user
        ),
        source="recovery_at_home",
        reason=reason,
        reason_other=reason_other,
        clinical_summary=f"Handed over by Recovery at Home ({referral.reference}). {note}".strip(),
        carer_breakdown=referral.carer_breakdown,
        safeguarding_concern=referral.safeguarding_concern,
        key_safe=referral.key_safe,
        consent_to_referral=referral.consent_to_referral,
        consent_to_share=referral.consent_to_share,
    )
