"""Fill the portal with Sunderland's reference data, a user per role and fake patients.

Safe to run again: reference data and users are matched by their natural keys, and
patients by NHS number (the same seed gives the same people).
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from faker import Faker
from nhs_number import calculate_checksum
from tqdm import tqdm

from core.models import (
    BedUnit,
    Neighbourhood,
    Organisation,
    Patient,
    Practice,
    RoleGrant,
    Service,
    Team,
    User,
)
from recovery_at_home.models import TravelTime
from tools import demo_data
from tools.demo_referrals import seed_demo_referrals

BATCH = 1000
STEMS = 1_000_000


def synthetic_nhs_numbers():
    """Distinct valid NHS numbers in the 999 range, which is never issued to real people.

    The stems follow a fixed permutation of 0..999,999 (7919 is coprime to 10^6), so the
    numbers look scattered, never repeat, and a smaller run is a prefix of a larger one.
    About 909,000 stems have a check digit.
    """
    for i in range(STEMS):
        stem = f"999{(i * 7919 + 123_457) % STEMS:06d}"
        check = calculate_checksum(stem)
        if check is not None and check < 10:
            yield stem + str(check)


class Command(BaseCommand):
    help = "Load demo data: reference data, one user per role, fake patients."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=600, help="How many fake patients.")
        parser.add_argument(
            "--days", type=int, default=182, help="Days of past activity before today's (on a first run)."
        )
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, patients: int, days: int, seed: int, **options):
        with transaction.atomic():
            practices = self.seed_reference_data()
            users = self.seed_users()
        created = self.seed_patients(patients, practices, seed)
        referrals = seed_demo_referrals(history_days=days, seed=seed)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(practices)} practices, {len(users)} users, "
                f"{created} new patients ({Patient.objects.count()} in all), {referrals} new referrals."
            )
        )
        self.stdout.write(
            "\nSign in at http://127.0.0.1:8000/ with any of these "
            f"(password for all: {demo_data.DEMO_PASSWORD}):"
        )
        for user in users[: len(demo_data.DEMO_USERS)]:
            roles = ", ".join(sorted(grant.get_role_display() for grant in user.role_grants.all()))
            self.stdout.write(f"  {user.username:<18} {roles}")
        colleagues = users[len(demo_data.DEMO_USERS) :]
        if colleagues:
            self.stdout.write(
                f"and {len(colleagues)} colleagues in the same teams and practices, signed in as "
                f"first.last (e.g. {colleagues[0].username}) with the same password."
            )

    def seed_reference_data(self) -> list[Practice]:
        for name, short_name in demo_data.ORGANISATIONS:
            Organisation.objects.update_or_create(name=name, defaults={"short_name": short_name})
        practices = []
        for name, code, base, practice_rows in demo_data.NEIGHBOURHOODS:
            neighbourhood, _ = Neighbourhood.objects.update_or_create(
                code=code, defaults={"name": name, "population": demo_data.POPULATIONS[code]}
            )
            Team.objects.update_or_create(
                neighbourhood=neighbourhood,
                defaults={"name": f"{name} Community Integrated Team", "base": base},
            )
            for ods_code, practice_name, postcode in practice_rows:
                practice, _ = Practice.objects.update_or_create(
                    ods_code=ods_code,
                    defaults={"name": practice_name, "neighbourhood": neighbourhood, "postcode": postcode},
                )
                practices.append(practice)
        rah, _ = Service.objects.update_or_create(
            code=Service.Code.RECOVERY_AT_HOME, defaults=demo_data.RAH_SERVICE
        )
        Service.objects.update_or_create(
            code=Service.Code.COMMUNITY_INTEGRATED_TEAMS, defaults=demo_data.CIT_SERVICE
        )
        organisations = {org.short_name: org for org in Organisation.objects.all()}
        for code, name, org, offers, reason, prescribing in demo_data.PARTNER_SERVICES:
            Service.objects.update_or_create(
                code=code,
                defaults={
                    "kind": Service.Kind.PARTNER,
                    "name": name,
                    "organisation": organisations[org],
                    "offers": offers,
                    "default_reason": reason,
                    "social_prescribing": prescribing,
                },
            )
        for unit_name, address, beds in demo_data.BED_UNITS:
            BedUnit.objects.update_or_create(
                name=unit_name, defaults={"service": rah, "address": address, "beds": beds}
            )
        self.seed_travel_times()
        return practices

    def seed_travel_times(self) -> None:
        """The invented travel matrix, both ways; a figure an administrator changed stays."""
        places = {n.code: n for n in Neighbourhood.objects.filter(code__in=demo_data.POPULATIONS)}
        pairs = {}
        for (a, b), minutes in demo_data.TRAVEL_MINUTES.items():
            pairs[(a, b)] = minutes
            if a != "base":
                pairs[(b, a)] = minutes
        for code in places:
            pairs[(code, code)] = demo_data.WITHIN_NEIGHBOURHOOD_MINUTES.get(code, 10)
        for (a, b), minutes in pairs.items():
            TravelTime.objects.get_or_create(
                origin=None if a == "base" else places[a],
                destination=places[b],
                defaults={"minutes": minutes},
            )

    def seed_users(self) -> list[User]:
        """The user per role the demo signs in as, then their colleagues (first.last)."""
        organisations = {org.short_name: org for org in Organisation.objects.all()}
        rows = list(demo_data.DEMO_USERS) + [
            (f"{first}.{last}".lower(), first, last, *rest)
            for first, last, *rest in demo_data.DEMO_COLLEAGUES
        ]
        users = []
        for position, row in enumerate(rows, start=1):
            username, first, last, role, discipline, org, ods_codes, team_codes = row
            is_admin = role == "administrator"
            user, created = User.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.nhs.uk",
                    "phone": f"0191 555 01{position:02d}",
                    "discipline": discipline,
                    "organisation": organisations[org],
                    "is_staff": is_admin,
                    "is_superuser": is_admin,
                },
            )
            if created:
                user.set_password(demo_data.DEMO_PASSWORD)
                user.save(update_fields=["password"])
            RoleGrant.objects.get_or_create(user=user, role=role)
            user.practices.set(Practice.objects.filter(ods_code__in=ods_codes))
            user.teams.set(Team.objects.filter(neighbourhood__code__in=team_codes))
            user.partner_services.set(
                Service.objects.filter(code__in=demo_data.PARTNER_STAFF_SERVICES.get(username, []))
            )
            users.append(user)
        return users

    def seed_patients(self, count: int, practices: list[Practice], seed: int) -> int:
        rng = random.Random(seed)
        fake = Faker("en_GB")
        fake.seed_instance(seed)
        numbers = synthetic_nhs_numbers()
        today = timezone.localdate()
        created = 0
        with tqdm(
            total=count, desc="Patients", unit="patient", disable=count < 5000, file=self.stdout
        ) as progress:
            for start in range(0, count, BATCH):
                batch = []
                for _ in range(min(BATCH, count - start)):
                    lives_alone = rng.random() < 0.4
                    batch.append(
                        Patient(
                            nhs_number=next(numbers),
                            given_name=fake.first_name(),
                            family_name=fake.last_name(),
                            date_of_birth=today - timedelta(days=rng.randrange(65 * 365, 100 * 365)),
                            address=fake.street_address().replace("\n", ", ") + ", Sunderland",
                            postcode=rng.choice(practices).postcode,
                            phone=fake.phone_number(),
                            practice=rng.choice(practices),
                            lives_alone=lives_alone,
                            carer_name="" if lives_alone else fake.name(),
                            carer_relationship=""
                            if lives_alone
                            else rng.choice(["Daughter", "Son", "Wife", "Husband", "Neighbour"]),
                            carer_phone="" if lives_alone else fake.phone_number(),
                            key_safety_information=rng.choice(
                                [
                                    "",
                                    "",
                                    "Key safe by the back door.",
                                    "Dog in the house; ask for it to be shut away.",
                                ]
                            ),
                        )
                    )
                before = Patient.objects.count()
                Patient.objects.bulk_create(batch, ignore_conflicts=True)
                created += Patient.objects.count() - before
                progress.update(len(batch))
        return created
