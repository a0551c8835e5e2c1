"""Recovery at Home follows referrals: a referral received by the service starts its
clock, and the queue follows each referral's status (Episode.queue_open)."""

from django.dispatch import receiver

from core.models import Service
from recovery_at_home.models import Episode
from recovery_at_home.services import open_episode
from referrals.models import OPEN_STATUSES, Referral
from referrals.signals import referral_moved, referral_received


@receiver(referral_received, sender=Referral)
def start_response_clock(sender, *, referral: Referral, **kwargs) -> None:
    """A referral reaching Recovery at Home starts its response clock at once."""
    if referral.service.code == Service.Code.RECOVERY_AT_HOME:
        open_episode(referral=referral)


@receiver(referral_moved, sender=Referral)
def follow_referral_status(sender, *, referral: Referral, **kwargs) -> None:
    if referral.status not in OPEN_STATUSES:
        Episode.objects.filter(referral=referral, queue_open=True).update(queue_open=False)
