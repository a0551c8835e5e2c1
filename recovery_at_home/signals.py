"""The queue follows each referral's status (see Episode.queue_open), and its filters
follow the categories and neighbourhoods administrators edit."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.models import Neighbourhood, Service
from recovery_at_home.models import Episode, TriageCategory
from recovery_at_home.selectors import forget_filter_choices
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


@receiver([post_save, post_delete], sender=TriageCategory)
@receiver([post_save, post_delete], sender=Neighbourhood)
def refresh_filter_choices(sender, **kwargs) -> None:
    forget_filter_choices()
