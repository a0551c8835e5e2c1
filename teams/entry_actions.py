"""The caseload entry page's actions, as the page and the API both perform them: the form
that reads each, the service that applies it (through `services.change_entry`, which
audits it), and what the trail and the person are told."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms

from core.models import User
from teams import services
from teams.forms import ContactForm, DischargeForm, GoalForm, KeyWorkerForm, ReviewForm
from teams.models import CaseloadEntry


@dataclass(frozen=True)
class EntryAction:
    form: Callable[..., forms.Form]  # (data, *, entry, user) -> the bound form
    perform: Callable[..., object]  # (entry, user, cleaned data) -> what was made or changed
    done: str


ENTRY_ACTIONS = {
    "contacts": EntryAction(
        lambda data, *, entry, user: ContactForm(data, team=entry.team, user=user),
        lambda entry, user, data: services.record_contact(entry=entry, user=user, **data),
        "contact recorded",
    ),
    "goals": EntryAction(
        lambda data, *, entry, user: GoalForm(data),
        lambda entry, user, data: services.add_goal(entry=entry, user=user, **data),
        "goal added",
    ),
    "reviews": EntryAction(
        lambda data, *, entry, user: ReviewForm(data),
        lambda entry, user, data: services.review_care_plan(entry=entry, user=user, **data),
        "review recorded",
    ),
    "key-worker": EntryAction(
        lambda data, *, entry, user: KeyWorkerForm(data, team=entry.team),
        lambda entry, user, data: services.reassign_caseload(
            team=entry.team, entry_ids=[entry.pk], key_worker=data["key_worker"], user=user
        ),
        "key worker changed",
    ),
    "discharge": EntryAction(
        lambda data, *, entry, user: DischargeForm(data),
        lambda entry, user, data: services.discharge_from_caseload(entry=entry, user=user, **data),
        "discharged from the caseload",
    ),
}


def perform_entry_action(*, entry: CaseloadEntry, user: User, action: str, data: dict):
    """Apply a validated action to the entry, audited in its transaction."""
    chosen = ENTRY_ACTIONS[action]
    return services.change_entry(
        entry=entry, user=user, done=chosen.done, change=lambda: chosen.perform(entry, user, data)
    )
