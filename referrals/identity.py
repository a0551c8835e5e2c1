"""Who a referral is about: the person as the sender described them, and the record it is
matched to. The one rule for every door (the form, the API, FHIR messages):

- by NHS number, when it is on record: the referral joins that record (the receiving
  service must see the person's history); if the name or date of birth sent disagree
  with the record, the referral is still received (a person in crisis is never turned
  away) but marked "identity to confirm" for the receiving service;
- without one, by exact name and date of birth when exactly one record matches;
- otherwise a new record is made from what was sent.

Nothing of the record is ever told to the sender: not whether the number is known, not
whether the details agree. They see what they sent (`core.access`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from core.models import Patient, Practice, StatedGender
from core.nhs_numbers import format_nhs_number


def _same_name(typed: str, stored: str) -> bool:
    return " ".join(typed.split()).casefold() == " ".join(stored.split()).casefold()


# What those caring for the person need to know, sent with a referral and kept on a new
# record: the same names on Patient, SentPerson and every door's fields.
CARE_DETAILS = (
    "gender",
    "communication_needs",
    "interpreter_needed",
    "preferred_language",
    "next_of_kin_name",
    "next_of_kin_relationship",
    "next_of_kin_phone",
)


@dataclass(frozen=True)
class SentPerson:
    """The person as the sender typed them (already validated by the door's form or
    serializer). Shown to senders in place of the record, so it answers the record's
    names for what the sender may see."""

    given_name: str
    family_name: str
    nhs_number: str | None = None
    date_of_birth: date | None = None
    practice: Practice | None = field(default=None, compare=False)
    address: str = ""
    postcode: str = ""
    phone: str = ""
    lives_alone: bool = False
    gender: str = ""
    communication_needs: str = ""
    interpreter_needed: bool = False
    preferred_language: str = ""
    next_of_kin_name: str = ""
    next_of_kin_relationship: str = ""
    next_of_kin_phone: str = ""

    pk = None  # never a record's: templates link to a record only when it is seen

    def __post_init__(self):
        object.__setattr__(self, "given_name", self.given_name.strip())
        object.__setattr__(self, "family_name", self.family_name.strip())
        object.__setattr__(self, "postcode", self.postcode.strip().upper())
        object.__setattr__(self, "nhs_number", self.nhs_number or None)

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def nhs_number_display(self) -> str:
        return format_nhs_number(self.nhs_number or "")

    @property
    def practice_ods_code(self) -> str:
        return self.practice.ods_code if self.practice else ""

    def stored(self) -> dict:
        """As kept on the referral (JSON)."""
        values = asdict(self)
        values["date_of_birth"] = self.date_of_birth.isoformat() if self.date_of_birth else None
        values["practice"] = (
            {"ods_code": self.practice.ods_code, "name": self.practice.name} if self.practice else None
        )
        return values

    @classmethod
    def from_stored(cls, stored: dict) -> SentPerson:
        practice = stored.get("practice")
        born = stored.get("date_of_birth")
        return cls(
            given_name=stored.get("given_name", ""),
            family_name=stored.get("family_name", ""),
            nhs_number=stored.get("nhs_number"),
            date_of_birth=date.fromisoformat(born) if born else None,
            # Shown by name only: an unsaved Practice carries no record.
            practice=(
                Practice(ods_code=practice["ods_code"], name=practice["name"])
                if practice and practice.get("ods_code")
                else None
            ),
            address=stored.get("address", ""),
            postcode=stored.get("postcode", ""),
            phone=stored.get("phone", ""),
            lives_alone=stored.get("lives_alone", False),
            **{name: stored.get(name, cls.__dataclass_fields__[name].default) for name in CARE_DETAILS},
        )

    @classmethod
    def of_record(cls, patient: Patient) -> SentPerson:
        """The person as a record describes them (a hand-over from a service that holds it)."""
        return cls(
            given_name=patient.given_name,
            family_name=patient.family_name,
            nhs_number=patient.nhs_number,
            date_of_birth=patient.date_of_birth,
            practice=patient.practice,
            address=patient.address,
            postcode=patient.postcode,
            phone=patient.phone,
            lives_alone=patient.lives_alone,
            **{name: getattr(patient, name) for name in CARE_DETAILS},
        )

    def new_record(self, *, with_nhs_number: bool = True) -> Patient:
        """An unsaved record made from what was sent."""
        return Patient(
            nhs_number=self.nhs_number if with_nhs_number else None,
            given_name=self.given_name,
            family_name=self.family_name,
            date_of_birth=self.date_of_birth,
            practice=self.practice if self.practice and self.practice.pk else None,
            address=self.address,
            postcode=self.postcode,
            phone=self.phone,
            lives_alone=self.lives_alone,
            **{name: getattr(self, name) for name in CARE_DETAILS},
        )

    @property
    def gender_display(self) -> str:
        return StatedGender(self.gender).label if self.gender in StatedGender.values else ""

    def disagrees_with(self, patient: Patient) -> list[str]:
        """What was sent that the record says otherwise (for the receiving service)."""
        differences = []
        if not _same_name(self.family_name, patient.family_name):
            differences.append("last name")
        if not _same_name(self.given_name, patient.given_name):
            differences.append("first name")
        if self.date_of_birth and patient.date_of_birth and self.date_of_birth != patient.date_of_birth:
            differences.append("date of birth")
        return differences


@dataclass(frozen=True)
class Match:
    """The record a referral is about (unsaved when new), and what disagrees with it."""

    patient: Patient
    disagreements: tuple[str, ...] = ()

    @property
    def identity_to_confirm(self) -> bool:
        return bool(self.disagreements)


def match_patient(*, person: SentPerson) -> Match:
    """The record this person is, by the rule above; never raises on a disagreement."""
    if person.nhs_number:
        known = Patient.objects.filter(nhs_number=person.nhs_number).first()
        if known is not None:
            return Match(patient=known, disagreements=tuple(person.disagrees_with(known)))
    elif person.date_of_birth:
        matches = list(
            Patient.objects.filter(
                given_name__iexact=person.given_name,
                family_name__iexact=person.family_name,
                date_of_birth=person.date_of_birth,
                merged_into__isnull=True,
            )[:2]
        )
        if len(matches) == 1:
            return Match(patient=matches[0])
    return Match(patient=person.new_record())
