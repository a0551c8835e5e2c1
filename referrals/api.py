"""The referrals API: create, list and retrieve (scoped by relationship, audited), and the
transitions. Business rules stay in `referrals.services`."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from core.access import RAH_STAFF, REFERRING_ROLES
from core.audit import record_event, record_patients_listed
from core.models import AuditAction, Service, Team, User
from core.validators import validate_in_era
from referrals import selectors, services
from referrals.identity import CARE_DETAILS, SentPerson
from referrals.models import Reason, Referral, ReferralEvent, Source, Status
from referrals.serializers import PatientSerializer, PhoneField, SentPersonSerializer


class ReferralEventSerializer(serializers.ModelSerializer):
    by = serializers.SerializerMethodField()

    class Meta:
        model = ReferralEvent
        fields = ["kind", "at", "by", "note"]

    def get_by(self, event) -> str:
        return str(event.user) if event.user_id else event.actor


class PersonShownField(serializers.Field):
    """The person as the viewer may see them (`core.access`): the record, or what was sent
    (then without an id: it opens nothing)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, referral: Referral) -> dict:
        if referral.shows_record:
            return PatientSerializer(referral.patient).data
        sent = SentPerson.from_stored(referral.person_as_sent)
        return {
            "id": None,
            "nhs_number": sent.nhs_number,
            "given_name": sent.given_name,
            "family_name": sent.family_name,
            "date_of_birth": sent.date_of_birth.isoformat() if sent.date_of_birth else None,
            "practice": sent.practice_ods_code or None,
            "address": sent.address,
            "postcode": sent.postcode,
            "phone": sent.phone,
            "lives_alone": sent.lives_alone,
            **{name: getattr(sent, name) for name in CARE_DETAILS},
        }


@extend_schema_field(PatientSerializer)
class _PersonShown(PersonShownField):
    pass


class ReferralSerializer(serializers.ModelSerializer):
    patient = _PersonShown(help_text="The person's record, or (id null) the person as sent.")
    identity_to_confirm = serializers.SerializerMethodField()
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
            "reason_other",
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
            "identity_to_confirm",
        ]

    def get_identity_to_confirm(self, referral) -> bool:
        """For the receiving service; a sender is never told how what they sent compares."""
        return referral.identity_to_confirm and referral.shows_record


class ReferralDetailSerializer(ReferralSerializer):
    timeline = ReferralEventSerializer(source="events_for_viewer", many=True, read_only=True)

    class Meta(ReferralSerializer.Meta):
        fields = [*ReferralSerializer.Meta.fields, "timeline"]


class ReferralCreateSerializer(serializers.Serializer):
    patient = SentPersonSerializer()
    # The NHS services: a partner referral is made from the person's page (`partners`).
    service = serializers.SlugRelatedField(
        slug_field="code", queryset=Service.objects.filter(kind=Service.Kind.NHS)
    )
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    source = serializers.ChoiceField(choices=Source.choices)
    reason = serializers.ChoiceField(choices=Reason.choices)
    reason_other = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="With reason 'other': what it is.",
    )
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
    referrer_phone = PhoneField(max_length=30, required=False, allow_blank=True)
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
        problems = services.reason_problems(
            reason=attrs["reason"], reason_other=attrs["reason_other"], service=attrs["service"]
        )
        if problems:
            raise serializers.ValidationError({field: [problem] for field, problem in problems.items()})
        person = SentPerson(**attrs["patient"])
        cit = attrs["service"].code == Service.Code.COMMUNITY_INTEGRATED_TEAMS
        if cit and not attrs.get("team") and services.route_to_team_of(practice=person.practice) is None:
            raise serializers.ValidationError(
                {"team": ["Choose the team: the person's GP practice is not known (send patient.practice)."]}
            )
        user = self.context["request"].user
        duplicates = list(services.open_duplicates(person=person, service=attrs["service"], user=user)[:3])
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
        attrs["person"] = person
        return attrs


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RedirectSerializer(serializers.Serializer):
    service = serializers.SlugRelatedField(
        slug_field="code", queryset=Service.objects.filter(kind=Service.Kind.NHS)
    )
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class CloseSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=300)


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class CorrectionSerializer(serializers.Serializer):
    """Only the details that change; the rest stay as they are."""

    reason = serializers.ChoiceField(choices=Reason.choices, required=False)
    reason_other = serializers.CharField(max_length=200, required=False, allow_blank=True)
    clinical_summary = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    carer_breakdown = serializers.BooleanField(required=False)
    safeguarding_concern = serializers.BooleanField(required=False)
    key_safe = serializers.BooleanField(required=False)
    consent_to_share = serializers.BooleanField(required=False)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000)


class ReferralFilterSerializer(serializers.Serializer):
    list = serializers.ChoiceField(
        choices=[
            ("all", "Everything you may see"),
            ("mine", "The referrals I sent"),
            ("practice", "The referrals my practice sent"),
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


def _listed(user: User, which: str, team_id: int | None):
    """The page lists as API lists, each scoped as its page is."""
    if which == "mine":
        return selectors.my_referrals(user=user)
    if which == "practice":
        return selectors.practice_referrals(user=user)
    if which == "inbox":
        if user.has_role(*RAH_STAFF):
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
            raise selectors.refusal_of(reference=self.kwargs["reference"]) from None

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
        incoming = ReferralCreateSerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        person = data["person"]
        referrer = services.Referrer(
            user=request.user,
            practice=services.referring_practice(user=request.user, candidate=person.practice),
            name=data.get("referrer_name", ""),
            role=data.get("referrer_role", "") or request.user.job_title,
            phone=data.get("referrer_phone", "") or request.user.phone,
        )
        referral = services.submit_referral(
            person=person,
            service=data["service"],
            team=data.get("team"),
            referrer=referrer,
            **{name: data[name] for name in services.REFERRAL_DETAILS},
        )
        return Response(
            ReferralDetailSerializer(self.get_queryset().get(pk=referral.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def _transition(self, request: Request, name: str, body=None) -> Response:
        """One of `services.ACTIONS`, as the page's buttons do it (`act_on_referral`)."""
        referral = self.get_object()
        services.check_receiver(referral=referral, user=request.user)
        fields = {}
        if body is not None:
            incoming = body(data=request.data)
            incoming.is_valid(raise_exception=True)
            fields = incoming.validated_data
        return self._changed(
            request,
            lambda: services.act_on_referral(referral=referral, user=request.user, action=name, **fields),
        )

    def _changed(self, request: Request, change) -> Response:
        """The service's change: refused, a 409 saying why; else the referral as now seen."""
        try:
            result = change()
        except services.TransitionRefused as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        shown = selectors.referrals_visible_to(user=request.user).get(pk=result.pk)
        return Response(ReferralSerializer(shown).data)

    @extend_schema(
        request=None,
        responses={200: ReferralSerializer, 409: REFUSED},
        description="A referral to a Community Integrated Team is accepted onto its caseload, "
        "with a key worker: POST /api/teams/referrals/{reference}/accept/.",
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, reference: str) -> Response:
        return self._transition(request, "accept")

    @extend_schema(request=DeclineSerializer, responses={200: ReferralSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, reference: str) -> Response:
        return self._transition(request, "decline", DeclineSerializer)

    @extend_schema(
        request=RedirectSerializer,
        responses={200: ReferralSerializer, 409: REFUSED},
        description="Returns the new referral to the other service.",
    )
    @action(detail=True, methods=["post"])
    def redirect(self, request: Request, reference: str) -> Response:
        return self._transition(request, "redirect", RedirectSerializer)

    @extend_schema(request=None, responses={200: ReferralSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, reference: str) -> Response:
        return self._transition(request, "start")

    @extend_schema(request=CloseSerializer, responses={200: ReferralSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, reference: str) -> Response:
        return self._transition(request, "close", CloseSerializer)

    def _as_referrer(self, request: Request, body, change) -> Response:
        referral = self.get_object()
        if not services.may_change_as_referrer(user=request.user, referral=referral):
            raise services.NotTheReferrer("Only the referrer can withdraw or correct a referral.")
        incoming = body(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self._changed(
            request, lambda: change(referral=referral, user=request.user, **incoming.validated_data)
        )

    @extend_schema(
        request=WithdrawSerializer,
        responses={200: ReferralSerializer, 409: REFUSED},
        description="The referrer withdraws a referral that nobody has accepted yet.",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, reference: str) -> Response:
        return self._as_referrer(request, WithdrawSerializer, services.withdraw_referral)

    @extend_schema(
        request=CorrectionSerializer,
        responses={200: ReferralSerializer, 409: REFUSED},
        description="The referrer corrects what they sent, before anyone accepts it; the "
        "version replaced is kept and the timeline names what changed.",
    )
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, reference: str) -> Response:
        return self._as_referrer(request, CorrectionSerializer, services.correct_referral)

    def _settle_identity(self, request: Request, settle) -> Response:
        referral = self.get_object()
        return self._changed(request, lambda: settle(referral=referral, user=request.user))

    @extend_schema(
        request=None,
        responses={200: ReferralSerializer, 409: REFUSED},
        description="The receiving service: the referral is about the person on record.",
    )
    @action(detail=True, methods=["post"], url_path="confirm-identity")
    def confirm_identity(self, request: Request, reference: str) -> Response:
        return self._settle_identity(request, services.confirm_identity)

    @extend_schema(
        request=None,
        responses={200: ReferralSerializer, 409: REFUSED},
        description="The receiving service: not the person on record; register them as sent.",
    )
    @action(detail=True, methods=["post"], url_path="separate-identity")
    def separate_identity(self, request: Request, reference: str) -> Response:
        return self._settle_identity(request, services.separate_identity)

    @extend_schema(request=NoteSerializer, responses={201: ReferralEventSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, reference: str) -> Response:
        referral = self.get_object()
        incoming = NoteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        event = services.add_note(referral=referral, user=request.user, note=incoming.validated_data["note"])
        return Response(ReferralEventSerializer(event).data, status=status.HTTP_201_CREATED)
