"""factory_boy factories for the core models."""

from __future__ import annotations

import datetime as dt

import factory
from faker import Faker
from nhs_number import calculate_checksum

from core.forms import MemorableDateWidget
from core.models import Neighbourhood, Patient, Practice, RoleGrant, Service, Team, User
from referrals import services as referral_services
from referrals.identity import SentPerson
from referrals.models import Reason, Referral, Source

_british_names = Faker("en_GB")


def valid_nhs_number(n: int) -> str:
    """The n-th valid NHS number in the never-issued 999 range (each n has its own ten stems)."""
    for stem in range(999_000_000 + 10 * n, 999_000_000 + 10 * n + 10):
        check = calculate_checksum(str(stem))
        if check is not None and check < 10:
            return f"{stem}{check}"
    raise AssertionError("ten consecutive stems always hold a valid NHS number")


class NeighbourhoodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Neighbourhood

    name = factory.Sequence(lambda n: f"Neighbourhood {n}")
    code = factory.Sequence(lambda n: f"neighbourhood-{n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    neighbourhood = factory.SubFactory(NeighbourhoodFactory)
    name = factory.LazyAttribute(lambda team: f"{team.neighbourhood.name} Community Integrated Team")


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice

    ods_code = factory.Sequence(lambda n: f"A{10000 + n:05d}")
    name = factory.Sequence(lambda n: f"Practice {n}")
    neighbourhood = factory.SubFactory(NeighbourhoodFactory)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    nhs_number = factory.Sequence(valid_nhs_number)
    given_name = factory.Faker("first_name", locale="en_GB")
    # Double-barrelled, so a test that looks for a patient on a page can't be fooled by a
    # member of staff (also from Faker) who shares a single surname.
    family_name = factory.LazyFunction(lambda: f"{_british_names.last_name()}-{_british_names.last_name()}")
    date_of_birth = dt.date(1940, 5, 17)
    practice = factory.SubFactory(PracticeFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.nhs.uk")
    password = factory.django.Password("correct-horse-battery-staple")

    @factory.post_generation
    def roles(self, create, roles, **kwargs):
        for role in roles or []:
            RoleGrant.objects.create(user=self, role=role)

    @factory.post_generation
    def practices(self, create, practices, **kwargs):
        if practices:
            self.practices.set(practices)

    @factory.post_generation
    def teams(self, create, teams, **kwargs):
        if teams:
            self.teams.set(teams)

    @factory.post_generation
    def partner_services(self, create, services, **kwargs):
        if services:
            self.partner_services.set(services)


class RecoveryAtHomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ["code"]

    code = Service.Code.RECOVERY_AT_HOME
    name = "Recovery at Home"
    base = "Leechmere"


class CommunityTeamsServiceFactory(RecoveryAtHomeFactory):
    code = Service.Code.COMMUNITY_INTEGRATED_TEAMS
    name = "Community Integrated Teams"
    base = ""


class CarersCentreFactory(RecoveryAtHomeFactory):
    """A partner service, as an administrator adds one."""

    code = "carers-centre"
    kind = Service.Kind.PARTNER
    name = "Sunderland Carers Centre"
    base = ""
    offers = "Carer's assessment and support"
    default_reason = "carers_assessment"


class SocialPrescribingFactory(CarersCentreFactory):
    code = "social-prescribing"
    name = "Social prescribing"
    offers = "Link workers: what matters to the person"
    default_reason = "social_prescribing"
    social_prescribing = True


class ReferralFactory(factory.django.DjangoModelFactory):
    """Made through `submit_referral`, so each has its reference and first timeline event."""

    class Meta:
        model = Referral

    patient = factory.SubFactory(PatientFactory)
    service = factory.SubFactory(RecoveryAtHomeFactory)
    team = None
    referred_by = None
    referring_practice = None
    source = Source.GP
    reason = factory.LazyAttribute(
        lambda referral: (
            Reason.FALL if referral.service.code == Service.Code.RECOVERY_AT_HOME else Reason.FRAILTY_REVIEW
        )
    )
    clinical_summary = "Two falls this week, no injury; struggling with stairs."

    @classmethod
    def _create(cls, model_class, *, patient, service, team, referred_by, referring_practice, **fields):
        return referral_services.submit_referral(
            person=SentPerson.of_record(patient),
            of_record=patient,
            service=service,
            team=team,
            referrer=referral_services.Referrer(
                user=referred_by,
                practice=referring_practice,
                name="" if referred_by else "Caller",
                phone="0191 555 0000",
            ),
            consent_to_referral=True,
            # A partner's referral as `partners.services.refer_to_partner` makes it.
            to_partner=service.is_partner,
            **fields,
        )


def on_caseload(
    *, team: Team, key_worker: User, patient: Patient | None = None, referral: Referral | None = None
):
    """A person accepted onto a team's caseload the way members do it (referral, accept)."""
    from teams.services import accept_onto_caseload

    if referral is None:
        referral = ReferralFactory(
            patient=patient or PatientFactory(practice=PracticeFactory(neighbourhood=team.neighbourhood)),
            service=CommunityTeamsServiceFactory(),
            team=team,
        )
    return accept_onto_caseload(referral=referral, key_worker=key_worker, user=key_worker)


def bulk_caseload(*, team: Team, key_workers: list[User], count: int, practice: Practice):
    """Many open entries at once, for list sizes a page must not slow down with (each with
    an accepted referral, a contact and a goal, as the real ones have)."""
    from django.utils import timezone

    from mdt.models import MdtFlag
    from referrals.models import Status
    from teams.models import CarePlanGoal, CaseloadEntry, Contact

    now = timezone.now()
    cit = CommunityTeamsServiceFactory()
    start = Patient.objects.count()
    patients = Patient.objects.bulk_create(
        Patient(given_name="Bulk", family_name=f"Person-{start + n}", practice=practice) for n in range(count)
    )
    referrals = Referral.objects.bulk_create(
        Referral(
            reference=f"BULK-{start + n:07d}",
            patient=patient,
            service=cit,
            team=team,
            source=Source.GP,
            reason=Reason.FRAILTY_REVIEW,
            consent_to_referral=True,
            status=Status.ACCEPTED,
        )
        for n, patient in enumerate(patients)
    )
    entries = CaseloadEntry.objects.bulk_create(
        CaseloadEntry(
            patient=referral.patient,
            team=team,
            referral=referral,
            key_worker=key_workers[n % len(key_workers)],
            opened_at=now - dt.timedelta(days=n % 90),
            review_due=(now - dt.timedelta(days=30 - n % 60)).date(),
        )
        for n, referral in enumerate(referrals)
    )
    Contact.objects.bulk_create(
        Contact(
            entry=entry,
            kind=Contact.Kind.VISIT,
            staff=entry.key_worker,
            at=now - dt.timedelta(days=n % 20),
            duration_minutes=30,
        )
        for n, entry in enumerate(entries)
    )
    CarePlanGoal.objects.bulk_create(
        CarePlanGoal(entry=entry, description="Walk to the shop") for entry in entries
    )
    MdtFlag.objects.bulk_create(
        MdtFlag(patient=entry.patient, reason="Falls", flagged_by=entry.key_worker) for entry in entries[::7]
    )
    return entries


def meeting_with_agenda(*, practice: Practice, coordinator: User, patients=(), starts_at=None):
    """A planned MDT of the practice, with these patients on its agenda in this order."""
    from django.utils import timezone

    from mdt import services as mdt_services
    from mdt.models import Meeting

    meeting = Meeting.objects.create(
        practice=practice,
        coordinator=coordinator,
        starts_at=starts_at or timezone.now() + dt.timedelta(days=7),
        place="Practice meeting room",
    )
    items = [
        mdt_services.add_to_agenda(meeting=meeting, patient=patient, user=coordinator, reason="Test")
        for patient in patients
    ]
    return meeting, items


def typed_date(name: str, iso: str) -> dict[str, str]:
    """A date as a person types it into the day/month/year boxes (`MemorableDateField`):
    "1938-02-11" is 11, 2 and 1938; "" leaves all three empty."""
    year, month, day = iso.split("-") if iso else ("", "", "")
    typed = {"day": day.lstrip("0"), "month": month.lstrip("0"), "year": year}
    return {f"{name}_{part}": typed[part] for part, _, _ in MemorableDateWidget.PARTS}
