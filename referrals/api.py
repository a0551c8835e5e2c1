"""The referrals API: create, list and retrieve (scoped by relationship, audited), and the
transitions. Business rules stay in `referrals.services`."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from atb.audit import record_event, record_patients_listed
from atb.fields import NHSNumberFormField
from atb.models import AuditAction, Patient, Practice, Service, Team, User
from atb.models.patients import validate_not_in_future
from atb.validators import validate_in_era
from referrals import selectors, services
from referrals.models import Reason, Referral, ReferralEvent, Source, Status
from referrals.views import REFERRING_ROLES, audit_refused_referral, can_act_on, submit_and_audit


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


class ReferralEventSerializer(serializers.ModelSerializer):
    by = serializers.SerializerMethodField()

    class Meta:
        model = ReferralEvent
        fields = ["kind", "at", "by", "note"]

    def get_by(self, event) -> str:
        return str(event.user) if event.user_id else event.actor


class ReferralSerializer(serializers.ModelSerializer):
    patient = PatientSerializer(read_only=True)
    service = serializers.SlugRelatedField(slug_field="code", read_only=True)
    team = serializers.StringRelatedField()
    referred_by = serializers.CharField(source="referrer_display", read_only=True)
    redirected_from = serializers.SlugRelatedField(slug_field="reference", read_only=True)

    class Meta:
        model = Referral
        fields = [
            "reference",
            "status",
            "patient",
            "service",
            "team",
            "source",
            "reason",
            "clinical_summary",
            "carer_breakdown",
            "safeguarding_concern",
            "key_safe",
            "consent_to_referral",
            "consent_to_share",
            "referred_by",
            "referrer_role",
            "referrer_phone",
            "received_at",
            "status_changed_at",
            "decline_reason",
            "outcome",
            "redirected_from",
        ]


class ReferralDetailSerializer(ReferralSerializer):
    timeline = ReferralEventSerializer(source="events", many=True, read_only=True)

    class Meta(ReferralSerializer.Meta):
        fields = [*ReferralSerializer.Meta.fields, "timeline"]


class ReferralCreateSerializer(serializers.Serializer):
    patient = PatientSerializer()
    service = serializers.SlugRelatedField(slug_field="code", queryset=Service.objects.all())
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    source = serializers.ChoiceField(choices=Source.choices)
    reason = serializers.ChoiceField(choices=Reason.choices)
    clinical_summary = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    carer_breakdown = serializers.BooleanField(default=False)
    safeguarding_concern = serializers.BooleanField(default=False)
    key_safe = serializers.BooleanField(default=False)
    consent_to_referral = serializers.BooleanField()
    consent_to_share = serializers.BooleanField(default=False)
    referrer_name = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="For a system sending on behalf of a person.",
    )
    referrer_role = serializers.CharField(max_length=100, required=False, allow_blank=True)
    referrer_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    confirm_duplicate = serializers.BooleanField(
        default=False, help_text="Send even though the person has an open referral to this service."
    )

    def validate_consent_to_referral(self, value):
        if not value:
            raise serializers.ValidationError(
                "A referral needs the person's consent, or their representative's."
            )
        return value

    def validate(self, attrs):
        if not services.reason_fits_service(reason=attrs["reason"], service=attrs["service"]):
            raise serializers.ValidationError(
                {"reason": [f"Choose a reason that {attrs['service']} responds to."]}
            )
        details = dict(attrs["patient"])
        try:
            patient = services.resolve_patient(
                nhs_number=details.pop("nhs_number", None),
                given_name=details.pop("given_name"),
                family_name=details.pop("family_name"),
                date_of_birth=details.pop("date_of_birth", None),
                **details,
            )
        except services.PatientMismatch as mismatch:
            raise serializers.ValidationError({"patient": {mismatch.field: [str(mismatch)]}}) from None
        duplicates = list(services.open_duplicates(patient=patient, service=attrs["service"])[:3])
        if duplicates and not attrs["confirm_duplicate"]:
            raise serializers.ValidationError(
                {
                    "confirm_duplicate": [
                        "This person already has an open referral to this service: "
                        + ", ".join(d.reference for d in duplicates)
                        + ". Send with confirm_duplicate=true if this is a new concern."
                    ]
                }
            )
        attrs["resolved_patient"] = patient
        return attrs


class AcceptSerializer(serializers.Serializer):
    key_worker = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text="Required for a referral to a Community Integrated Team: who leads the person's care.",
    )
    review_due = serializers.DateField(required=False, allow_null=True, validators=[validate_in_era])


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RedirectSerializer(serializers.Serializer):
    service = serializers.SlugRelatedField(slug_field="code", queryset=Service.objects.all())
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class CloseSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=300)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000)


class ReferralFilterSerializer(serializers.Serializer):
    list = serializers.ChoiceField(
        choices=[
            ("all", "Everything you may see"),
            ("mine", "My referrals"),
            ("practice", "My practice's"),
            ("inbox", "The receiving inbox: new first"),
        ],
        required=False,
        default="all",
        help_text="The same lists as the pages: mine, practice, inbox (the service's or team's).",
    )
    team = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="With list=inbox: one of your teams."
    )
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    received_from = serializers.DateField(required=False, validators=[validate_in_era])
    received_to = serializers.DateField(required=False, validators=[validate_in_era])


def _accept(*, referral: Referral, user: User, key_worker: User | None = None, review_due=None) -> Referral:
    """A team's referral is accepted onto its caseload, with a key worker; others simply accepted."""
    if referral.team_id is None:
        return services.accept_referral(referral=referral, user=user)
    from teams.services import CaseloadRefused, accept_onto_caseload  # teams builds on referrals

    if key_worker is None:
        raise serializers.ValidationError({"key_worker": ["Choose the key worker for the caseload."]})
    try:
        return accept_onto_caseload(
            referral=referral, key_worker=key_worker, user=user, review_due=review_due
        ).referral
    except CaseloadRefused as refused:
        raise services.TransitionRefused(str(refused)) from refused


def _listed(user: User, which: str, team_id: int | None):
    """The page lists as API lists, each scoped as its page is."""
    if which == "mine":
        return selectors.my_referrals(user=user)
    if which == "practice":
        return selectors.practice_referrals(user=user)
    if which == "inbox":
        if user.has_role(*selectors.RAH_ROLES):
            return selectors.inbox(user=user, service=Service.objects.get(code=Service.Code.RECOVERY_AT_HOME))
        teams = list(user.teams.values_list("pk", flat=True))
        if not teams:
            return Referral.objects.none()
        chosen = team_id if team_id in teams else teams[0]
        cit = Service.objects.get(code=Service.Code.COMMUNITY_INTEGRATED_TEAMS)
        return selectors.inbox(user=user, service=cit, team_id=chosen)
    return selectors.listed_referrals(user=user)


REFUSED = inline_serializer("TransitionRefused", {"detail": serializers.CharField()})


class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "reference"
    lookup_value_regex = r"ATB-\d{4}-\d{6}"
    serializer_class = ReferralSerializer

    def get_queryset(self):
        if self.action == "list":
            return selectors.listed_referrals(user=self.request.user)
        return (
            selectors.referrals_visible_to(user=self.request.user)
            .select_related("patient__practice", "service", "team", "referred_by", "redirected_from")
            .prefetch_related("events__user")
        )

    def get_serializer_class(self):
        return ReferralDetailSerializer if self.action == "retrieve" else ReferralSerializer

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            audit_refused_referral(self.request, self.kwargs["reference"])
            raise

    @extend_schema(parameters=[ReferralFilterSerializer])
    def list(self, request: Request, *args, **kwargs) -> Response:
        filters = ReferralFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        chosen = dict(filters.validated_data)
        referrals = _listed(request.user, chosen.pop("list"), chosen.pop("team", None))
        referrals = selectors.filter_referrals(referrals, **chosen)
        page = self.paginate_queryset(referrals)
        with transaction.atomic():
            record_patients_listed(
                request=request, patients=[r.patient for r in page], detail="API referrals"
            )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        referral = self.get_object()
        record_event(request=request, action=AuditAction.VIEW, patient=referral.patient, obj=referral)
        return Response(self.get_serializer(referral).data)

    @extend_schema(request=ReferralCreateSerializer, responses={201: ReferralDetailSerializer})
    def create(self, request: Request) -> Response:
        if not request.user.has_role(*REFERRING_ROLES):
            raise PermissionDenied("Your role does not include making referrals.")
        incoming = ReferralCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        patient = data["resolved_patient"]
        referrer = services.Referrer(
            user=request.user,
            practice=services.referring_practice(user=request.user, candidate=patient.practice),
            name=data.get("referrer_name", ""),
            role=data.get("referrer_role", "") or request.user.job_title,
            phone=data.get("referrer_phone", "") or request.user.phone,
        )
        referral = submit_and_audit(
            request,
            patient=patient,
            service=data["service"],
            team=data.get("team"),
            referrer=referrer,
            details=data,
        )
        return Response(
            ReferralDetailSerializer(self.get_queryset().get(pk=referral.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def _transition(self, request: Request, name: str, perform, body=None) -> Response:
        referral = self.get_object()
        if not can_act_on(request.user, referral):
            raise PermissionDenied("Only the receiving team can do that.")
        fields = {}
        if body is not None:
            incoming = body(data=request.data)
            incoming.is_valid(raise_exception=True)
            fields = incoming.validated_data
        try:
            result = perform(referral=referral, user=request.user, **fields)
        except services.TransitionRefused as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        record_event(
            request=request,
            action=AuditAction.UPDATE,
            patient=referral.patient,
            obj=referral,
            detail=f"API {name}",
        )
        return Response(ReferralSerializer(Referral.objects.get(pk=result.pk)).data)

    @extend_schema(
        request=AcceptSerializer,
        responses={200: ReferralSerializer, 409: REFUSED},
        description="A referral to a Community Integrated Team goes onto its caseload with the key worker.",
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, reference: str) -> Response:
        return self._transition(request, "accept", _accept, AcceptSerializer)

    @extend_schema(request=DeclineSerializer, responses={200: ReferralSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, reference: str) -> Response:
        return self._transition(request, "decline", services.decline_referral, DeclineSerializer)

    @extend_schema(
        request=RedirectSerializer,
        responses={200: ReferralSerializer, 409: REFUSED},
        description="Returns the new referral to the other service.",
    )
    @action(detail=True, methods=["post"])
    def redirect(self, request: Request, reference: str) -> Response:
        return self._transition(request, "redirect", services.redirect_referral, RedirectSerializer)

    @extend_schema(request=None, responses={200: ReferralSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, reference: str) -> Response:
        return self._transition(request, "start", services.start_referral)

    @extend_schema(request=CloseSerializer, responses={200: ReferralSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, reference: str) -> Response:
        return self._transition(request, "close", services.close_referral, CloseSerializer)

    @extend_schema(request=NoteSerializer, responses={201: ReferralEventSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, reference: str) -> Response:
        referral = self.get_object()
        incoming = NoteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        event = services.add_note(referral=referral, user=request.user, note=incoming.validated_data["note"])
        record_event(
            request=request,
            action=AuditAction.UPDATE,
            patient=referral.patient,
            obj=referral,
            detail="API note",
        )
        return Response(ReferralEventSerializer(event).data, status=status.HTTP_201_CREATED)
