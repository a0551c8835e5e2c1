"""Posting the responses owed to sending systems (`closed_loop.system_responses`): the
oldest undelivered response of each referral, claimed by one worker at a time, tried
again with back-off until it is delivered."""

from __future__ import annotations

from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from closed_loop.models import SystemResponse

# A claimed response not delivered within this is due again (its worker died).
CLAIM_TIMEOUT = timedelta(minutes=2)
# After this many failed tries a response is shown as failing (it is still retried).
FAILING_AFTER = 5
BACK_OFF_CAP = timedelta(hours=1)


def back_off(attempts: int) -> timedelta:
    """30 s, 1, 2, 4, 8 minutes… after each failed try, at most an hour."""
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), BACK_OFF_CAP)


def due(*, now: datetime) -> QuerySet[SystemResponse]:
    """The responses to try now: undelivered, due, and the first undelivered of their
    thread for their system (a later one waits for it)."""
    earlier_undelivered = SystemResponse.objects.filter(
        system=OuterRef("system"),
        thread=OuterRef("thread"),
        sequence__lt=OuterRef("sequence"),
        delivered_at=None,
    )
    return (
        SystemResponse.objects.filter(delivered_at=None, next_attempt_at__lte=now, system__active=True)
        .filter(~Exists(earlier_undelivered))
        .order_by("next_attempt_at", "pk")
    )


def _claim(response_id: int, *, now: datetime) -> bool:
    """Take the response for one try; False if another worker has it or it is done."""
    return bool(
        SystemResponse.objects.filter(pk=response_id, delivered_at=None, next_attempt_at__lte=now).update(
            next_attempt_at=now + CLAIM_TIMEOUT, attempts=F("attempts") + 1
        )
    )


def deliver(*, response_id: int) -> str:
    """Post one response if it is still owed and its turn has come. Returns what happened."""
    now = timezone.now()
    if not _claim(response_id, now=now):
        return "not claimable"
    response = SystemResponse.objects.select_related("system").get(pk=response_id)
    headers = {
        "Content-Type": "application/fhir+json",
        "Idempotency-Key": str(response.key),
        "X-Correlation-ID": str(response.key),
    }
    if response.system.outbound_token:
        headers["Authorization"] = f"Bearer {response.system.outbound_token}"
    try:
        answer = requests.post(
            response.system.endpoint_url,
            json=response.bundle,
            headers=headers,
            timeout=settings.SYSTEM_RESPONSE_TIMEOUT_SECONDS,
        )
        if answer.status_code >= 300:
            raise requests.HTTPError(f"HTTP {answer.status_code}: {answer.text[:200]}")
    except requests.RequestException as failure:
        SystemResponse.objects.filter(pk=response_id, delivered_at=None).update(
            next_attempt_at=timezone.now() + back_off(response.attempts),
            last_error=f"{failure.__class__.__name__}: {failure}"[:500],
        )
        return "failed"
    SystemResponse.objects.filter(pk=response_id).update(delivered_at=timezone.now(), last_error="")
    return "delivered"


def send_due_responses(*, limit: int = 200, within: timedelta = timedelta(seconds=50)) -> dict[str, int]:
    """The sweep (and what a change's worker runs): every response whose turn has come,
    then those whose turn came as those were delivered. A system that fails once is left
    for the next sweep, and the sweep stops within a minute, so one endpoint that does
    not answer holds up neither the other systems nor the next sweep."""
    results: dict[str, int] = {}
    stop_at = timezone.now() + within
    failed_systems: set[int] = set()
    tried = 0
    while tried < limit and timezone.now() < stop_at:
        batch = list(
            due(now=timezone.now()).exclude(system__in=failed_systems).values_list("pk", "system_id")[:50]
        )
        if not batch:
            break
        for response_id, system_id in batch:
            if system_id in failed_systems or timezone.now() >= stop_at:
                continue
            outcome = deliver(response_id=response_id)
            results[outcome] = results.get(outcome, 0) + 1
            tried += 1
            if outcome == "failed":
                failed_systems.add(system_id)
    return results


# Still owed after this many tries: shown to administrators (it is still retried).
FAILING = Q(delivered_at=None, attempts__gte=FAILING_AFTER)


def failing() -> QuerySet[SystemResponse]:
    """Responses that keep failing: for the administrators' page."""
    return SystemResponse.objects.filter(FAILING)
