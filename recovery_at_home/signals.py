"""The queue follows each referral's status (see Episode.queue_open), and its filters
follow the categories and neighbourhoods administrators edit."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from atb.models import Neighbourhood
from recovery_at_home.models import Episode, TriageCategory
from recovery_at_home.selectors import forget_filter_choices
from referrals.models import OPEN_STATUSES, Referral
from referrals.signals import referral_moved


@receiver(referral_moved, sender=Referral)
def follow_referral_status(sender, *, referral: Referral, **kwargs) -> None:
    if referral.status not in OPEN_STATUSES:
        Episode.objects.filter(referral=referral, queue_open=True).update(queue_open=False)


@receiver([post_save, post_delete], sender=TriageCategory)
@receiver([post_save, post_delete], sender=Neighbourhood)
def refresh_filter_choices(sender, **kwargs) -> None:
    forget_filter_choices()
