"""How a person is read from and written to JSON, by the API and the FHIR messages alike
(the same fields and bounds as the pages' forms)."""

from __future__ import annotations

from rest_framework import serializers

from core.fields import NHSNumberFormField
from core.models import Patient, Practice
from core.models.patients import validate_not_in_future
from core.validators import validate_in_era
from referrals.identity import SentPerson


class NHSNumberField(serializers.CharField):
    """Accepts spaces and dashes; answers with the same messages as the pages."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return NHSNumberFormField(required=False).clean(value) or None
        except Exception as invalid:  # Django's ValidationError, turned into DRF's
            raise serializers.ValidationError(getattr(invalid, "messages", [str(invalid)])) from None


class PatientSerializer(serializers.ModelSerializer):
    nhs_number = NHSNumberField(required=False, allow_blank=True, allow_null=True, max_length=20)
    date_of_birth = serializers.DateField(
        required=False, allow_null=True, validators=[validate_in_era, validate_not_in_future]
    )
    practice = serializers.SlugRelatedField(
        slug_field="ods_code",
        queryset=Practice.objects.all(),
        required=False,
        allow_null=True,
        help_text="The GP practice's ODS code.",
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "nhs_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "practice",
            "address",
            "postcode",
            "phone",
            "lives_alone",
        ]
        read_only_fields = ["id"]
        extra_kwargs = {"nhs_number": {"validators": []}}


class SentPersonSerializer(PatientSerializer):
    """The person as a sending system describes them: the same fields and bounds as the
    referral form (names required)."""

    class Meta(PatientSerializer.Meta):
        fields = [name for name in PatientSerializer.Meta.fields if name != "id"]

    def to_person(self) -> SentPerson:
        return SentPerson(**self.validated_data)
