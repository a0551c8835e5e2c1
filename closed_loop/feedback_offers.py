"""Offering the Friends and Family Test when Recovery at Home or a team discharges someone:
an invitation for every discharge (`feedback.services`), its link sent to the person or
their carer if they agreed to messages, or the question opened on a responder's tablet."""

from __future__ import annotations

from core.models import Role, Service, User
from feedback import services as feedback
from referrals.models import Referral, ReferralEvent, Status
from referrals.services import may_act_on


def occasion_of(referral: Referral) -> str:
    return f"referral-{referral.pk}"


def offers_feedback(referral: Referral) -> bool:
    return referral.service.code == Service.Code.RECOVERY_AT_HOME or referral.team_id is not None


def offer_after_discharge(*, event: ReferralEvent) -> str | None:
    """The invitation's token when this event closed a referral of Recovery at Home or a
    team (None otherwise, or when the discharge was offered already)."""
    if event.kind != ReferralEvent.Kind.CLOSED:
        return None
    referral = Referral.objects.select_related("service", "team__neighbourhood", "patient__practice").get(
        pk=event.referral_id
    )
    if not offers_feedback(referral):
        return None
    practice = referral.patient.practice
    neighbourhood = (
        referral.team.neighbourhood if referral.team else (practice.neighbourhood if practice else None)
    )
    made = feedback.invite(
        occasion=occasion_of(referral),
        service=referral.service,
        team=referral.team,
        neighbourhood=neighbourhood,
    )
    return made[1] if made else None


def may_offer_on_tablet(*, user: User, referral: Referral) -> bool:
    """The service that discharged them (a team's member, Recovery at Home's coordinators
    and responders), once it has."""
    if referral.status != Status.CLOSED or not offers_feedback(referral):
        return False
    if referral.service.code == Service.Code.RECOVERY_AT_HOME:
        return user.has_role(Role.RAH_COORDINATOR, Role.RAH_RESPONDER)
    return may_act_on(user=user, referral=referral)


def open_on_tablet(*, referral: Referral, user: User) -> str:
    """A fresh token for the question on a responder's tablet, at the last visit."""
    if not may_offer_on_tablet(user=user, referral=referral):
        raise feedback.FeedbackRefused(
            "Feedback is offered by the service that discharged them, once it has."
        )
    return feedback.reissue(occasion=occasion_of(referral))
