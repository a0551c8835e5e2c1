"""The queue follows each referral's status (see Episode.queue_open)."""

from django.dispatch import receiver

from recovery_at_home.models import Episode
from referrals.models import OPEN_STATUSES, Referral
from referrals.signals import referral_moved


@receiver(referral_moved, sender=Referral)
def follow_referral_status(sender, *, referral: Referral, **kwargs) -> None:
    if referral.status not in OPEN_STATUSES:
        Episode.objects.filter(referral=referral, queue_open=True).update(queue_open=False)
