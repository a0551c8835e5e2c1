"""What the referrer hears, and how: each status change of their referral becomes an update
in the portal ("What happened to my referrals", unread until read) and, for the kinds
they chose, an email carrying the reference and a link only, never anything about the
person (the outbox sends it, `core.notifications`)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from closed_loop.models import ReferrerUpdate, UpdateKind, UpdatePreference
from core.models import User
from core.notifications import portal_link, queue_email
from core.uk_time import uk_when
from referrals.identity import SentPerson
from referrals.models import Referral, ReferralEvent

# The timeline's events that are status changes the referrer hears of.
UPDATE_FOR_EVENT = {
    ReferralEvent.Kind.SUBMITTED: UpdateKind.RECEIVED,
    ReferralEvent.Kind.REDIRECTED_IN: UpdateKind.RECEIVED,
    ReferralEvent.Kind.ACCEPTED: UpdateKind.ACCEPTED,
    ReferralEvent.Kind.DECLINED: UpdateKind.DECLINED,
    ReferralEvent.Kind.REDIRECTED: UpdateKind.REDIRECTED,
    # A team's first contact starts the work; Recovery at Home's arrival stops the clock.
    ReferralEvent.Kind.STARTED: UpdateKind.FIRST_CONTACT,
    ReferralEvent.Kind.ARRIVED: UpdateKind.FIRST_CONTACT,
    ReferralEvent.Kind.OUTCOME: UpdateKind.OUTCOME,
    ReferralEvent.Kind.CLOSED: UpdateKind.CLOSED,
    ReferralEvent.Kind.WITHDRAWN: UpdateKind.WITHDRAWN,
    ReferralEvent.Kind.CORRECTED: UpdateKind.CORRECTED,
}

# Without a choice of their own, a referrer is emailed when the referral is decided on and
# when it ends; the rest is in the portal only.
EMAILED_BY_DEFAULT = frozenset(
    {UpdateKind.ACCEPTED, UpdateKind.DECLINED, UpdateKind.REDIRECTED, UpdateKind.OUTCOME, UpdateKind.CLOSED}
)

# What each update says in the list and the email's subject ("Referral ATB-… accepted").
SAID = {
    UpdateKind.RECEIVED: "received by {service}",
    UpdateKind.ACCEPTED: "accepted by {service}",
    UpdateKind.DECLINED: "declined by {service}",
    UpdateKind.REDIRECTED: "redirected by {service}",
    UpdateKind.FIRST_CONTACT: "first contact made by {service}",
    UpdateKind.OUTCOME: "outcome recorded by {service}",
    UpdateKind.CLOSED: "closed by {service}",
    UpdateKind.WITHDRAWN: "withdrawn",
    UpdateKind.CORRECTED: "corrected",
}


def said(*, kind: str, referral: Referral) -> str:
    return SAID[UpdateKind(kind)].format(service=referral.team or referral.service)


def emailed_kinds(*, user: User) -> set[str]:
    """The kinds this user is emailed about: their own choices over the defaults."""
    chosen = dict(UpdatePreference.objects.filter(user=user).values_list("kind", "by_email"))
    return {kind for kind in UpdateKind.values if chosen.get(kind, kind in EMAILED_BY_DEFAULT)}


FIRST_CONTACT_EVENTS = [
    kind for kind, update in UPDATE_FOR_EVENT.items() if update == UpdateKind.FIRST_CONTACT
]


def status_change_of(*, event: ReferralEvent) -> str | None:
    """The update this event is (the referrer's and the sending system's alike), or None.
    Recovery at Home's arrival also starts the work: the first contact is told once."""
    kind = UPDATE_FOR_EVENT.get(event.kind)
    if kind == UpdateKind.FIRST_CONTACT and (
        ReferralEvent.objects.filter(referral_id=event.referral_id, kind__in=FIRST_CONTACT_EVENTS)
        .exclude(pk=event.pk)
        .exists()
    ):
        return None
    return kind


def record_update(*, event: ReferralEvent) -> ReferrerUpdate | None:
    """Tell the referrer of this event, if it is a status change they hear of and they did
    not make it themselves. Called inside the transaction that recorded the event."""
    kind = status_change_of(event=event)
    if kind is None:
        return None
    referral = Referral.objects.select_related("referred_by", "service", "team").get(pk=event.referral_id)
    referrer = referral.referred_by
    if referrer is None or not referrer.is_active or event.user_id == referrer.pk:
        return None
    update = ReferrerUpdate.objects.create(
        user=referrer, referral=referral, event=event, kind=kind, at=event.at
    )
    if referrer.email and kind in emailed_kinds(user=referrer):
        _email(update, referral)
    return update


def _email(update: ReferrerUpdate, referral: Referral) -> None:
    """The reference, what happened, when, and a link: nothing about the person, whose
    details stay in the portal."""
    what = said(kind=update.kind, referral=referral)
    queue_email(
        key=f"referrer-update-{update.pk}",
        to=update.user.email,
        subject=f"Referral {referral.reference} {what}",
        body=(
            f"Your referral {referral.reference} was {what} ({uk_when(update.at)}).\n\n"
            "See what happened, and any reason given, in the ATB Portal: "
            f"{portal_link(reverse('referral_detail', args=[referral.reference]))}\n\n"
            "This email says nothing about the person; the portal holds the details.\n"
            "Choose which updates you are emailed about: "
            f"{portal_link(reverse('closed_loop:update_settings'))}"
        ),
    )
    ReferrerUpdate.objects.filter(pk=update.pk).update(emailed=True)


def updates_for(*, user: User) -> QuerySet[ReferrerUpdate]:
    """The user's updates, newest first, with what each list line shows."""
    return (
        ReferrerUpdate.objects.filter(user=user)
        .select_related("referral__service", "referral__team", "event")
        .order_by("-at", "-id")
    )


def described(updates) -> list[ReferrerUpdate]:
    """Each update with what its line says: what happened, the note the referrer may read
    (why it was declined, where it went, how it ended), and the person as the referrer
    sent them (never the record the portal matched)."""
    updates = list(updates)
    for update in updates:
        event, referral = update.event, update.referral
        update.said = said(kind=update.kind, referral=referral)
        update.note = event.note if event.kind in ReferralEvent.NOTES_FOR_REFERRER else ""
        update.person_name = SentPerson.from_stored(referral.person_as_sent).full_name
    return updates


def unread_count(*, user: User) -> int:
    return ReferrerUpdate.objects.filter(user=user, read_at=None).count()


def mark_read(*, user: User, shown: list[ReferrerUpdate]) -> int:
    """Mark read the updates the user was shown: one that arrives while they read stays
    unread."""
    unread = ReferrerUpdate.objects.filter(user=user, read_at=None, pk__in=[update.pk for update in shown])
    return unread.update(read_at=timezone.now())


@transaction.atomic
def choose_emails(*, user: User, emailed: set[str]) -> None:
    """Keep the user's choice for every kind: email too for those in `emailed`."""
    unknown = set(emailed) - set(UpdateKind.values)
    if unknown:
        raise ValueError(f"Unknown kinds of update: {sorted(unknown)}")
    for kind in UpdateKind.values:
        UpdatePreference.objects.update_or_create(
            user=user, kind=kind, defaults={"by_email": kind in emailed}
        )
