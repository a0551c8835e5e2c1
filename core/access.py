"""The access relationship: who may see which person, and how much of which referral.

This module is the one rule. Every scope the portal uses (patient pages, lists, the API,
FHIR, exports, print views, calendars) is built from these functions.

A person's record is seen through a legitimate relationship, never a role alone:
- referrers and MDT coordinators: patients registered with their practices;
- CIT members: people referred to their teams (so everyone on their caseloads);
- Recovery at Home staff: people referred to Recovery at Home (and so the referrals
  Recovery at Home handed them on with, to their Community Integrated Team).

A referral is seen whole (with the person's record) through the same relationship. A
referrer also sees the referrals they and their practice sent, whoever they are about,
but only as sent: its status, the events meant for the referrer, its outcome, and the
person as the sender typed them. Sending a referral never discloses the record the
portal holds, and never opens it.

A person's referrals to partner services (the Carers Centre, Age UK, social prescribing)
are part of their record for those who may open it: the team that referred them on sees
what the partner offered and what came of it.

Partner staff see the people referred to their services and nothing else: each such
referral at the minimum it needs (who, how to reach them safely, what is asked), never
the person's record, the referral's clinical summary or anyone's other referrals. They
have no break-glass.

Service managers and administrators see figures only. A record merged into another is
seen through the one it was merged into.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from core.models import Patient, Role, Service, User

NO_ONE = Q(pk__in=[])

# The role groups: what a role may do. Whom it is done for is still the relationship below.
RAH_STAFF = (Role.RAH_COORDINATOR, Role.RAH_RESPONDER)
# Clinical staff work with people; managers and administrators with figures and the audit trail.
CLINICAL_STAFF = (
    Role.REFERRER,
    Role.CIT_MEMBER,
    Role.RAH_COORDINATOR,
    Role.RAH_RESPONDER,
    Role.MDT_COORDINATOR,
)
REFERRING_ROLES = (Role.REFERRER, Role.CIT_MEMBER, Role.RAH_COORDINATOR)
# Who refers a person (or their carer) on to a partner service: anyone who works with them,
# the responder at the door included.
PARTNER_REFERRING_ROLES = (*REFERRING_ROLES, Role.RAH_RESPONDER)
# Who takes a referral by phone (from a person, a carer or another professional).
PHONE_IN_ROLES = (Role.RAH_COORDINATOR,)
# Recovery at Home searches too: a carer ringing back gives a name, a number or a reference.
PATIENT_SEARCH_ROLES = (Role.REFERRER, Role.CIT_MEMBER, Role.MDT_COORDINATOR, *RAH_STAFF)
REGISTERING_ROLES = (Role.REFERRER,)
# Who may ask for a person they can see to be discussed at an MDT.
FLAGGING_ROLES = (Role.REFERRER, Role.CIT_MEMBER, Role.RAH_COORDINATOR, Role.MDT_COORDINATOR)
# Emergency access is for clinical staff alone.
BREAK_GLASS_ROLES = CLINICAL_STAFF
# The performance dashboard, and who may open the referrals behind its national figures
# (Recovery at Home's own people; a manager reads figures, not people).
PERFORMANCE_ROLES = (Role.SERVICE_MANAGER, Role.ADMINISTRATOR, Role.CIT_MEMBER, Role.RAH_COORDINATOR)
CITY_WIDE_PERFORMANCE_ROLES = (Role.SERVICE_MANAGER, Role.ADMINISTRATOR, Role.RAH_COORDINATOR)
FIGURE_LIST_ROLES = (Role.RAH_COORDINATOR,)


def practices_of(*, user: User) -> list[int]:
    """The practices whose people the user works with: a referrer's or MDT coordinator's own."""
    return user.practice_ids if user.has_role(Role.REFERRER, Role.MDT_COORDINATOR) else []


def meeting_practices_of(*, user: User) -> list[int]:
    """The practices whose MDT meetings (agendas, print views, calendars) the user runs."""
    return user.practice_ids if user.has_role(Role.MDT_COORDINATOR) else []


def teams_of(*, user: User) -> list[int]:
    """The Community Integrated Teams whose caseloads the user works on."""
    return user.team_ids if user.has_role(Role.CIT_MEMBER) else []


def partner_services_of(*, user: User) -> list[int]:
    """The partner services whose referrals the user receives."""
    return user.partner_service_ids if user.has_role(Role.PARTNER_STAFF) else []


def _referred(**referral_filter) -> Q:
    return Q(pk__in=Patient.objects.filter(**referral_filter).values("pk"))


def _partner_referrals_of(people: QuerySet[Patient]) -> Q:
    """Over Referral: referrals to partner services of these people. The service test
    comes first and is cheap; the people are looked for only among partner referrals."""
    partner_services = Service.objects.filter(kind=Service.Kind.PARTNER).values("pk")
    return Q(service__in=partner_services) & Q(patient__in=people.values("pk"))


def patient_scope(*, user: User) -> Q:
    """Over Patient: the people whose record the user may open."""
    scope = NO_ONE
    if practices := practices_of(user=user):
        scope |= Q(practice__in=practices)
    if teams := teams_of(user=user):
        scope |= _referred(caseload_entries__team__in=teams) | _referred(referrals__team__in=teams)
    if user.has_role(*RAH_STAFF):
        scope |= _referred(referrals__service__code=Service.Code.RECOVERY_AT_HOME)
    return scope & Q(merged_into__isnull=True)


def referral_record_scope(*, user: User) -> Q:
    """Over Referral: referrals seen whole, with the person's record. Each line is the
    relationship of `patient_scope` seen from the referral, so a referral seen whole is
    always about a person the user may open (tested)."""
    scope = NO_ONE
    if practices := practices_of(user=user):
        # The practice's people as a set of ids (from the index of a practice's live
        # records; a merged record has no referrals left), not a join: ORed with the
        # sender's terms in a filter, a join would make PostgreSQL join every referral to
        # its person before it could keep any, and a count would keep the join.
        registered = Patient.objects.filter(practice__in=practices, merged_into__isnull=True)
        scope |= Q(patient__in=registered.values("pk"))
    if teams := teams_of(user=user):
        scope |= Q(team__in=teams)
        scope |= _partner_referrals_of(
            Patient.objects.filter(Q(caseload_entries__team__in=teams) | Q(referrals__team__in=teams))
        )
    if user.has_role(*RAH_STAFF):
        # A hand-over is Recovery at Home's own referral of its person to the team: the
        # staff who handed over follow it (accepted, by whom, with what outcome).
        scope |= Q(service__code=Service.Code.RECOVERY_AT_HOME) | Q(handed_over_from__isnull=False)
        scope |= _partner_referrals_of(
            Patient.objects.filter(referrals__service__code=Service.Code.RECOVERY_AT_HOME)
        )
    return scope


def partner_referral_scope(*, user: User) -> Q:
    """Over Referral: the referrals a partner's staff receive, seen at their minimum."""
    services = partner_services_of(user=user)
    # Partner services only, whatever the admin linked: never an NHS service's referrals.
    return Q(service__in=services, service__kind=Service.Kind.PARTNER) if services else NO_ONE


def referrals_sent_by_me(*, user: User) -> Q:
    """Over Referral: referrals the user sent (seen as sent)."""
    return Q(referred_by=user) if user.has_role(*REFERRING_ROLES) else NO_ONE


def referrals_sent_by_my_practice(*, user: User) -> Q:
    """Over Referral: referrals the user's practices sent (seen as sent)."""
    return Q(referring_practice__in=user.practice_ids) if user.has_role(*REFERRING_ROLES) else NO_ONE


def referral_sender_scope(*, user: User) -> Q:
    """Over Referral: referrals the user or their practice sent (seen as sent)."""
    return referrals_sent_by_me(user=user) | referrals_sent_by_my_practice(user=user)


def referral_scope(*, user: User) -> Q:
    """Over Referral: every referral the user may open, whole or as sent."""
    return referral_record_scope(user=user) | referral_sender_scope(user=user)
