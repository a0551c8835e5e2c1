"""How a person is read from and written to JSON, by the API and the FHIR messages alike
(the same fields and bounds as the pages' forms)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from core.contact_details import interpreter_problem
from core.fields import NHSNumberFormField, UKPhoneFormField, UKPostcodeFormField
from core.models import Patient, Practice
from core.models.patients import validate_not_in_future
from core.validators import validate_in_era
from referrals.identity import CARE_DETAILS, SentPerson


class CleanedLikeTheForm(serializers.CharField):
    """Checks and cleans a value with the pages' own form field, so the API answers with
    the same messages and keeps the value in the same form."""

    form_field = forms.CharField

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return self.form_field(required=False).clean(value)
        except DjangoValidationError as invalid:
            raise serializers.ValidationError(invalid.messages) from None


class NHSNumberField(CleanedLikeTheForm):
    """Accepts spaces and dashes; empty means not known."""

    form_field = NHSNumberFormField

    def to_internal_value(self, data):
        return super().to_internal_value(data) or None


class PostcodeField(CleanedLikeTheForm):
    form_field = UKPostcodeFormField


class PhoneField(CleanedLikeTheForm):
    form_field = UKPhoneFormField


class PatientSerializer(serializers.ModelSerializer):
    nhs_number = NHSNumberField(required=False, allow_blank=True, allow_null=True, max_length=20)
    postcode = PostcodeField(required=False, allow_blank=True, max_length=10)
    phone = PhoneField(required=False, allow_blank=True, max_length=30)
    next_of_kin_phone = PhoneField(required=False, allow_blank=True, max_length=30)
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
            *CARE_DETAILS,
        ]
        read_only_fields = ["id"]
        extra_kwargs = {"nhs_number": {"validators": []}}

    def validate(self, attrs):
        if problem := interpreter_problem(
            interpreter_needed=attrs.get("interpreter_needed", False),
            preferred_language=attrs.get("preferred_language", ""),
        ):
            raise serializers.ValidationError({"preferred_language": [problem]})
        return attrs


class SentPersonSerializer(PatientSerializer):
    """The person as a sending system describes them: the same fields and bounds as the
    referral form (names required)."""

    class Meta(PatientSerializer.Meta):
        fields = [name for name in PatientSerializer.Meta.fields if name != "id"]

    def to_person(self) -> SentPerson:
        return SentPerson(**self.validated_data)
