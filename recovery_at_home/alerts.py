"""Response-time alerts: raised exactly once, never missed.

A sweep (beat, every minute) looks at the time, not at "what changed since last run", so
a sweep after an outage raises everything that became due meanwhile, marked late. Each
alert is unique per episode, kind and due time in PostgreSQL; inserts ignore conflicts,
so concurrent sweeps cannot raise one twice. Delivery is a second step that claims each
new alert once and queues its emails through the outbox (at least once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from core import heartbeats
from core.audit import record_event
from core.models import AuditAction, OutboundEmail, Role, User
from core.notifications import portal_link, queue_emails
from core.uk_time import uk_when
from recovery_at_home import care, clock, rota
from recovery_at_home.models import Alert, AlertPolicy, Episode
from recovery_at_home.selectors import listed_name
from referrals.models import ReferralEvent

SWEEP_HEARTBEAT = "alert_sweep"
# An alert raised this long after it fell due was raised by a catch-up sweep.
LATE_AFTER = timedelta(minutes=2)


def _running_clocks() -> QuerySet[Episode]:
    """Only running clocks get alerts (from the partial index of running clocks)."""
    return Episode.objects.filter(clock.RUNNING)


def _without(kind: str) -> Exists:
    return ~Exists(
        Alert.objects.filter(episode=OuterRef("pk"), kind=kind, for_due_at=OuterRef("response_due_at"))
    )


def _alert(episode_id: int, kind: str, for_due_at: datetime, due_at: datetime, now: datetime) -> Alert:
    return Alert(
        episode_id=episode_id,
        kind=kind,
        for_due_at=for_due_at,
        due_at=due_at,
        raised_at=now,
        late=now - due_at > LATE_AFTER,
    )


def raise_due_alerts(*, now: datetime | None = None) -> dict[str, int]:
    """Insert every alert that is due and not raised yet. Returns how many were attempted
    per kind; the unique constraint drops any another sweep raised first."""
    now = now or timezone.now()
    policy = AlertPolicy.current()
    due_soon = clock.due_soon_window()
    escalate_after = timedelta(minutes=policy.escalate_after_minutes)

    soon = _running_clocks().filter(clock.in_state(clock.ClockState.DUE_SOON, now=now, due_soon=due_soon))
    breached = _running_clocks().filter(clock.in_state(clock.ClockState.BREACHED, now=now, due_soon=due_soon))
    unanswered = Alert.objects.filter(
        kind=Alert.Kind.BREACHED,
        acknowledged_at__isnull=True,
        raised_at__lte=now - escalate_after,
        episode__in=_running_clocks(),
        for_due_at=F("episode__response_due_at"),
    ).exclude(
        Exists(
            Alert.objects.filter(
                episode=OuterRef("episode"), kind=Alert.Kind.ESCALATED, for_due_at=OuterRef("for_due_at")
            )
        )
    )
    missed = care.visits_missed(now=now).exclude(
        Exists(
            Alert.objects.filter(
                episode=OuterRef("care__episode"),
                kind=Alert.Kind.VISIT_MISSED,
                for_due_at=OuterRef("window_end"),
            )
        )
    )
    alerts = [
        *(
            _alert(
                episode_id,
                Alert.Kind.VISIT_MISSED,
                window_end,
                recorded_at if recorded_at is not None else care.missed_since(window_end),
                now,
            )
            for episode_id, window_end, recorded_at in missed.values_list(
                "care__episode_id", "window_end", "recorded_at"
            )
        ),
        *(
            _alert(pk, Alert.Kind.DUE_SOON, due, due - due_soon, now)
            for pk, due in soon.filter(_without(Alert.Kind.DUE_SOON)).values_list("pk", "response_due_at")
        ),
        *(
            _alert(pk, Alert.Kind.BREACHED, due, due, now)
            for pk, due in breached.filter(_without(Alert.Kind.BREACHED)).values_list("pk", "response_due_at")
        ),
        *(
            _alert(episode_id, Alert.Kind.ESCALATED, due, raised + escalate_after, now)
            for episode_id, due, raised in unanswered.values_list("episode_id", "for_due_at", "raised_at")
        ),
    ]
    Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    counts = {kind: 0 for kind in Alert.Kind.values}
    for alert in alerts:
        counts[alert.kind] += 1
    return counts


def _recipients(kind: str, *, now: datetime) -> QuerySet[User]:
    """Coordinators on duty (the rota's: `rota.on_duty`) get due-soon and breach alerts;
    service managers, who keep no rota, escalations."""
    if kind == Alert.Kind.ESCALATED:
        managers = User.objects.filter(is_active=True, role_grants__role=Role.SERVICE_MANAGER).distinct()
        return managers.exclude(email="")
    return rota.on_duty(role=Role.RAH_COORDINATOR, at=now).exclude(email="")


def notify_new_alerts(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Claim new alerts a batch at a time (locked rows are another sweep's) and queue their
    timeline entries and emails in the same transaction, so a worker killed half-way leaves
    each alert either fully delivered or unclaimed for the next sweep. Returns how many
    this call claimed."""
    now = now or timezone.now()
    claimed = 0
    while True:
        with transaction.atomic():
            batch = list(
                Alert.objects.filter(notified_at__isnull=True)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("episode__referral")
                .order_by("raised_at", "pk")[:batch_size]
            )
            if batch:
                Alert.objects.filter(pk__in=[alert.pk for alert in batch]).update(notified_at=now)
                _deliver(batch, now=now)
        claimed += len(batch)
        if len(batch) < batch_size:
            return claimed


def _deliver(batch: list[Alert], *, now: datetime) -> None:
    """Timeline entries and emails for a batch, in a constant number of queries."""
    ReferralEvent.objects.bulk_create(
        ReferralEvent(
            referral=alert.episode.referral,
            kind=ReferralEvent.Kind.ALERT,
            at=now,
            actor="Alert",
            note=f"{alert.get_kind_display()}{' (raised late)' if alert.late else ''}",
        )
        for alert in batch
    )
    recipients = {kind: list(_recipients(kind, now=now)) for kind in {alert.kind for alert in batch}}
    queue_emails([email for alert in batch for email in _emails(alert, recipients[alert.kind])])


def _emails(alert: Alert, recipients: list[User]) -> list[OutboundEmail]:
    reference = alert.episode.referral.reference
    due = date_format(timezone.localtime(alert.for_due_at), "j M Y H:i")  # read later, elsewhere
    what = {
        Alert.Kind.DUE_SOON: f"due at {due}",
        Alert.Kind.BREACHED: f"breached: was due at {due}",
        Alert.Kind.ESCALATED: f"breach at {due} not acknowledged",
        Alert.Kind.VISIT_MISSED: f"care visit missed (its window ended {due})",
    }[alert.kind]
    said = f"has a {what}" if alert.kind == Alert.Kind.VISIT_MISSED else f"is {what}"
    body = (
        f"Referral {reference} {said}.\n\n"
        f"Open it in the ATB Portal: {portal_link(reverse('referral_detail', args=[reference]))}\n"
        "(No patient details are sent by email.)"
    )
    return [
        OutboundEmail(
            key=f"alert-{alert.pk}-{user.pk}",
            to=user.email,
            subject=f"Recovery at Home {reference} {what}",
            body=body,
        )
        for user in recipients
    ]


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """One sweep: raise, then deliver, then say the sweep is alive."""
    counts = raise_due_alerts(now=now)
    counts["notified"] = notify_new_alerts(now=now)
    heartbeats.record_heartbeat(name=SWEEP_HEARTBEAT)
    return counts


@transaction.atomic
def acknowledge_alert(*, alert: Alert, user: User) -> bool:
    """True if this user acknowledged it; False if someone already had. A coordinator's
    to do (the queue's banner and the API alike), audited with the change."""
    if not user.has_role(Role.RAH_COORDINATOR):
        raise PermissionDenied("Only a Recovery at Home coordinator acknowledges alerts.")
    if not Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user
    ):
        return False
    ReferralEvent.objects.create(
        referral_id=alert.episode.referral_id,
        kind=ReferralEvent.Kind.ALERT_ACKNOWLEDGED,
        user=user,
        note=alert.get_kind_display(),
    )
    referral = alert.episode.referral
    record_event(
        action=AuditAction.UPDATE,
        user=user,
        patient=referral.patient,
        obj=referral,
        detail="alert acknowledged",
    )
    return True


BANNER_SIZE = 20


@dataclass(frozen=True)
class WaitingAlert:
    """One line of the queue's alert banner, worked out here: the banner only prints it."""

    pk: int
    kind: str  # "Due soon"
    reference: str
    url: str
    patient_name: str  # "SMITH, Ada"
    due_time: str  # UK time, "14:05", with the date when not today
    late: bool
    due_label: str = "due"  # what due_time is: a missed care visit's is its window's end


KIND_LABELS = dict(Alert.Kind.choices)


def _banner() -> QuerySet[Alert]:
    return unacknowledged_alerts().values(
        "pk",
        "kind",
        "for_due_at",
        "late",
        reference=F("episode__referral__reference"),
        given_name=F("episode__referral__patient__given_name"),
        family_name=F("episode__referral__patient__family_name"),
    )


def alerts_waiting(*, shown: int = BANNER_SIZE) -> tuple[list[WaitingAlert], int]:
    """The newest alerts waiting for a coordinator, and how many wait in all: counted only
    when the banner is full (usually there are none, and the page needs no count query)."""
    newest = _banner()[:shown]
    waiting = [
        WaitingAlert(
            pk=alert["pk"],
            kind=KIND_LABELS.get(alert["kind"], alert["kind"]),
            reference=alert["reference"],
            url=reverse("referral_detail", args=[alert["reference"]]),
            patient_name=listed_name(family_name=alert["family_name"], given_name=alert["given_name"]),
            due_time=uk_when(alert["for_due_at"]),
            due_label="window ended" if alert["kind"] == Alert.Kind.VISIT_MISSED else "due",
            late=alert["late"],
        )
        for alert in newest
    ]
    total = len(waiting) if len(waiting) < shown else unacknowledged_alerts().count()
    return waiting, total


def unacknowledged_alerts() -> QuerySet[Alert]:
    """For the queue banner: alerts still waiting for a coordinator, newest first: those of
    running clocks, and missed visits of care still running."""
    return (
        Alert.objects.filter(acknowledged_at__isnull=True)
        .filter(
            Q(episode__in=_running_clocks())
            | Q(kind=Alert.Kind.VISIT_MISSED, episode__care__discharged_at__isnull=True)
        )
        .select_related("episode__referral__patient")
        .order_by("-raised_at", "-pk")
    )
