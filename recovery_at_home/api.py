"""The Recovery at Home queue for other systems and screens (wallboards, the 111 desk)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import RAH_STAFF
from core.api_forms import cleaned, form_data, form_schema
from core.api_lists import audited_page
from core.audit import record_event, record_patients_listed
from core.models import AuditAction, Role
from core.validators import validate_in_era
from recovery_at_home import alerts, capacity, clock, reach, rota, selectors, services
from recovery_at_home.forms import CLOCK_FORMS, ArrivalForm, DischargeForm, ShiftForm
from recovery_at_home.models import BedStay, Episode, Shift
from referrals.selectors import referral_or_refusal

REFUSED = inline_serializer("ClockRefused", {"detail": serializers.CharField()})
FIELD_REFUSED = OpenApiResponse(description="What was sent is refused, field by field: {field: [messages]}.")


def _refused(refused: services.ClockRefused) -> Response:
    """A refusal of what was sent names its field (400, as a form's errors); a refusal of
    the act in the state it found (someone acted first) is a conflict (409)."""
    if refused.field:
        return Response({refused.field: [str(refused)]}, status=status.HTTP_400_BAD_REQUEST)
    return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)


class QueueEntrySerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="referral.reference")
    patient = serializers.SerializerMethodField()
    reason = serializers.CharField(source="referral.reason_shown")
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    state = serializers.SerializerMethodField()
    seconds_left = serializers.SerializerMethodField()

    class Meta:
        model = Episode
        fields = [
            "reference",
            "patient",
            "reason",
            "category",
            "response_due_at",
            "agreed_later",
            "arrived_at",
            "state",
            "seconds_left",
            "reablement_clock_start",
            "reablement_care_started_at",
        ]

    def get_patient(self, episode) -> dict:
        patient = episode.referral.patient
        practice = patient.practice
        return {
            "id": patient.pk,
            "name": patient.full_name,
            "nhs_number": patient.nhs_number,
            "age": patient.age,
            "locality": practice.neighbourhood.name if practice else None,
        }

    def get_state(self, episode) -> str:
        return clock.clock_state(
            due_at=episode.response_due_at,
            arrived_at=episode.arrived_at,
            now=self.context["now"],
            due_soon=self.context["due_soon"],
        )

    def get_seconds_left(self, episode) -> int | None:
        if episode.arrived_at is not None:
            return None
        return int((episode.response_due_at - self.context["now"]).total_seconds())


class QueueFilterSerializer(serializers.Serializer):
    category = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="A category code, or untriaged."
    )
    locality = serializers.CharField(
        required=False, allow_blank=True, max_length=50, help_text="A neighbourhood code."
    )
    state = serializers.ChoiceField(choices=clock.ClockState.choices, required=False, allow_blank=True)


class QueueView(generics.ListAPIView):
    """Open Recovery at Home referrals, soonest due first (running clocks before those reached)."""

    serializer_class = QueueEntrySerializer

    @extend_schema(parameters=[QueueFilterSerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        if not request.user.has_role(*RAH_STAFF):
            raise Http404("No such resource.")
        filters = QueueFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        now = timezone.now()
        due_soon = clock.due_soon_window()
        episodes = selectors.open_queue(
            filters=selectors.QueueFilters(**filters.validated_data), now=now, due_soon=due_soon
        )
        page = self.paginate_queryset(episodes)
        record_patients_listed(
            request=request,
            patients=[episode.referral.patient for episode in page],
            detail="API Recovery at Home queue",
            unless_listed_within=timedelta(minutes=15),
        )
        serializer = self.get_serializer(
            page, many=True, context={"now": now, "due_soon": due_soon, "request": request}
        )
        return self.get_paginated_response(serializer.data)


class VisitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(source="episode.referral.reference")
    patient = serializers.SerializerMethodField()
    state = serializers.CharField()
    response_due_at = serializers.DateTimeField(source="episode.response_due_at")
    dispatched_at = serializers.DateTimeField()
    on_the_way_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)

    def get_patient(self, visit) -> dict:
        patient = visit.episode.referral.patient
        return {
            "id": patient.pk,
            "name": patient.full_name,
            "nhs_number": patient.nhs_number,
            "address": patient.address,
            "postcode": patient.postcode,
            "key_safety_information": patient.key_safety_information,
        }


class MyVisitsView(generics.ListAPIView):
    """A responder's visits (as "My visits" on the tablet), soonest due first."""

    serializer_class = VisitSerializer

    def get(self, request: Request, *args, **kwargs) -> Response:
        if not request.user.has_role(Role.RAH_RESPONDER):
            raise Http404("No such resource.")
        return audited_page(
            self,
            request,
            selectors.visits_for(responder=request.user),
            patient_of=lambda visit: visit.episode.referral.patient,
            detail="API my visits",
            unless_listed_within=timedelta(minutes=15),
        )


class BedSerializer(serializers.Serializer):
    unit = serializers.CharField(source="bed_unit.name")
    patient = serializers.SerializerMethodField()
    admitted_at = serializers.DateTimeField()
    reference = serializers.CharField(source="episode.referral.reference")

    def get_patient(self, stay) -> dict:
        return {"id": stay.patient_id, "name": stay.patient.full_name, "nhs_number": stay.patient.nhs_number}


class BedBoardView(generics.ListAPIView):
    """Who is in the bed units now, longest stay first (the bed board)."""

    serializer_class = BedSerializer

    def get(self, request: Request, *args, **kwargs) -> Response:
        if not request.user.has_role(*RAH_STAFF):
            raise Http404("No such resource.")
        stays = (
            BedStay.objects.filter(discharged_at__isnull=True)
            .select_related("bed_unit", "patient", "episode__referral")
            .order_by("admitted_at", "pk")
        )
        return audited_page(
            self,
            request,
            stays,
            patient_of=lambda stay: stay.patient,
            detail="API bed board",
            unless_listed_within=timedelta(minutes=15),
        )


class ClockActionView(APIView):
    """The clock's actions on a Recovery at Home referral, as on its page."""

    def _perform(self, request: Request, reference: str, action: str) -> Response:
        referral = referral_or_refusal(user=request.user, reference=reference)
        services.check_may_act_on_clock(user=request.user, referral=referral, action=action)
        data = cleaned(CLOCK_FORMS[action](data=form_data(request)))
        try:
            services.act_on_clock(referral=referral, user=request.user, action=action, **data)
        except services.ClockRefused as refused:
            return _refused(refused)
        episode = selectors.episode_of(referral=referral)
        context = {"now": timezone.now(), "due_soon": clock.due_soon_window()}
        return Response(QueueEntrySerializer(episode, context=context).data)


def _clock_action(action: str) -> type[ClockActionView]:
    form = CLOCK_FORMS[action]
    name = "".join(part.title() for part in action.split("-"))

    @extend_schema(
        request=form_schema(f"{name}Request", form),
        responses={
            200: QueueEntrySerializer,
            400: OpenApiResponse(
                description="What was sent is refused, field by field: {field: [messages]}."
            ),
            409: REFUSED,
        },
        summary=f"{services.CLOCK_ACTIONS[action][2].capitalize()} (as the referral page does)",
    )
    def post(self, request: Request, reference: str) -> Response:
        return self._perform(request, reference, action)

    return type(f"{name}View", (ClockActionView,), {"post": post})


CLOCK_ACTION_VIEWS = {action: _clock_action(action) for action in CLOCK_FORMS}


class _DoneSerializer(serializers.Serializer):
    detail = serializers.CharField()


def _done(detail: str) -> Response:
    return Response({"detail": detail})


def _own_visit(request: Request, pk: int):
    """The responder's own visit (their visits list's scope), or a 404."""
    visit = selectors.visits_for(responder=request.user).filter(pk=pk).first()
    if visit is None:
        raise Http404("No such visit.")
    return visit


class OnTheWayView(APIView):
    @extend_schema(
        request=None, responses={200: _DoneSerializer, 409: REFUSED}, summary="On my way (a visit)"
    )
    def post(self, request: Request, pk: int) -> Response:
        visit = _own_visit(request, pk)
        try:
            services.record_on_the_way(dispatch=visit, user=request.user)
        except services.ClockRefused as refused:
            return _refused(refused)
        return _done("On the way.")


class VisitArrivalView(APIView):
    @extend_schema(
        request=form_schema("VisitArrivalRequest", ArrivalForm),
        responses={200: _DoneSerializer, 400: FIELD_REFUSED, 409: REFUSED},
        summary="Arrived with the person (a visit; the first stops the clock)",
    )
    def post(self, request: Request, pk: int) -> Response:
        visit = _own_visit(request, pk)
        data = cleaned(ArrivalForm(data=form_data(request)))
        try:
            services.record_responder_arrival(dispatch=visit, user=request.user, **data)
        except services.ClockRefused as refused:
            return _refused(refused)
        return _done("Arrival recorded.")


class BedDischargeView(APIView):
    @extend_schema(
        request=form_schema("BedDischargeRequest", DischargeForm),
        responses={200: _DoneSerializer, 409: REFUSED},
        summary="Discharge from a bed unit (as the bed board does)",
    )
    def post(self, request: Request, pk: int) -> Response:
        if not request.user.has_role(*RAH_STAFF):
            raise Http404("No such resource.")
        stay = (
            BedStay.objects.filter(pk=pk, discharged_at__isnull=True)
            .select_related("patient", "episode")
            .first()
        )
        if stay is None:
            raise Http404("No such bed stay.")
        data = cleaned(DischargeForm(data=form_data(request)))
        try:
            services.discharge_from_bed(stay=stay, user=request.user, note=data["note"])
        except services.ClockRefused as refused:
            return _refused(refused)
        return _done(f"Discharged from {stay.bed_unit}.")


class AcknowledgeAlertView(APIView):
    @extend_schema(
        request=None,
        responses={200: _DoneSerializer, 409: REFUSED},
        summary="Acknowledge an alert (as the queue's banner does)",
    )
    def post(self, request: Request, pk: int) -> Response:
        if not request.user.has_role(*RAH_STAFF):
            raise Http404("No such resource.")
        # Waiting alerts only, as the queue's banner has them.
        alert = alerts.unacknowledged_alerts().filter(pk=pk).first()
        if alert is None or not alerts.acknowledge_alert(alert=alert, user=request.user):
            return Response(
                {"detail": "That alert was already acknowledged."}, status=status.HTTP_409_CONFLICT
            )
        return _done("Acknowledged.")


class SuggestionSerializer(serializers.Serializer):
    responder = serializers.SerializerMethodField()
    arrives_at = serializers.DateTimeField()
    minutes_to_spare = serializers.IntegerField(
        allow_null=True, help_text="Negative: that many minutes late."
    )
    travel_minutes = serializers.IntegerField()
    travel_known = serializers.BooleanField(
        help_text="False: the matrix lacks the journey (30 minutes assumed)."
    )
    setting_out_from = serializers.CharField(source="setting_out_from.name")
    visits_in_hand = serializers.ListField(
        child=serializers.CharField(), help_text="Their references; send their count as visits_in_hand."
    )
    skill = serializers.CharField(allow_null=True)
    has_skill = serializers.BooleanField()
    in_time = serializers.BooleanField()
    before_shift_ends = serializers.BooleanField()
    can_go = serializers.BooleanField()
    why = serializers.ListField(child=serializers.CharField())

    def get_responder(self, suggestion) -> dict:
        person = suggestion.responder
        return {"id": person.pk, "name": str(person), "discipline": person.discipline}


class WhoCanGoView(APIView):
    """The responders on shift ranked for this referral, as "Who can go" on its page
    (`recovery_at_home.reach`): for coordinators."""

    @extend_schema(responses=SuggestionSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        if not request.user.has_role(Role.RAH_COORDINATOR):
            raise Http404("No such resource.")
        referral = referral_or_refusal(user=request.user, reference=reference)
        episode = (
            Episode.objects.select_related("referral__patient__practice__neighbourhood")
            .filter(referral=referral)
            .first()
        )
        if episode is None:
            raise Http404("This referral has no Recovery at Home clock.")
        with transaction.atomic():
            record_event(
                request=request,
                action=AuditAction.VIEW,
                patient=referral.patient,
                obj=referral,
                detail="API who can go",
            )
            suggestions = reach.suggest_responders(episode=episode)
        return Response(SuggestionSerializer(suggestions, many=True).data)


class CapacityView(APIView):
    """Capacity against demand for the next hours, as the panel beside the queue
    (`recovery_at_home.capacity`): counts only, for Recovery at Home staff."""

    @extend_schema(
        responses=inline_serializer(
            "CapacityAhead",
            {
                "in_hand": serializers.IntegerField(),
                "hours": inline_serializer(
                    "HourAhead",
                    {
                        "starts_at": serializers.DateTimeField(),
                        "ends_at": serializers.DateTimeField(),
                        "due": serializers.IntegerField(),
                        "nobody_sent": serializers.IntegerField(),
                        "on_shift": serializers.IntegerField(),
                        "can_reach": serializers.IntegerField(),
                        "short": serializers.BooleanField(),
                    },
                    many=True,
                ),
            },
        )
    )
    def get(self, request: Request) -> Response:
        if not request.user.has_role(*RAH_STAFF):
            raise Http404("No such resource.")
        ahead = capacity.capacity_ahead(now=timezone.now())
        return Response({"in_hand": ahead.in_hand, "hours": [asdict(hour) for hour in ahead.hours]})


class ShiftSerializer(serializers.ModelSerializer):
    staff = serializers.SerializerMethodField()

    class Meta:
        model = Shift
        fields = ["id", "staff", "starts_at", "ends_at", "base", "skills"]

    def get_staff(self, shift) -> dict:
        return {"id": shift.staff_id, "name": str(shift.staff), "discipline": shift.staff.discipline}


class ShiftRangeSerializer(serializers.Serializer):
    since = serializers.DateTimeField(
        required=False, validators=[validate_in_era], help_text="From (default: now)."
    )
    until = serializers.DateTimeField(
        required=False, validators=[validate_in_era], help_text="Until (default: a week after `since`)."
    )

    def validate(self, data):
        since = data.get("since") or timezone.now()
        until = data.get("until") or since + rota.WEEK
        if until <= since:
            raise serializers.ValidationError({"until": ["Give a time after `since`."]})
        return {"since": since, "until": until}


class ShiftsView(generics.ListAPIView):
    """The rota (`recovery_at_home.rota`): GET the shifts that overlap a stretch of time,
    earliest first (Recovery at Home staff); POST a shift, or a repeating pattern with
    `repeat_weeks` and `repeat_days` (coordinators), as the rota page does."""

    serializer_class = ShiftSerializer

    @extend_schema(parameters=[ShiftRangeSerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        if not request.user.has_role(*RAH_STAFF):
            raise Http404("No such resource.")
        stretch = ShiftRangeSerializer(data=request.query_params)
        stretch.is_valid(raise_exception=True)
        since, until = stretch.validated_data["since"], stretch.validated_data["until"]
        shifts = (
            Shift.objects.filter(starts_at__lt=until, ends_at__gt=since)
            .select_related("staff")
            .order_by("starts_at", "staff__last_name", "pk")
        )
        page = self.paginate_queryset(shifts)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=form_schema("ShiftRequest", ShiftForm),
        responses={201: ShiftSerializer(many=True), 400: FIELD_REFUSED},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        if not request.user.has_role(*RAH_STAFF):
            raise Http404("No such resource.")
        if not request.user.has_role(Role.RAH_COORDINATOR):
            raise PermissionDenied("Only a Recovery at Home coordinator keeps the rota.")
        fields = cleaned(ShiftForm(data=form_data(request, lists=("skills", "repeat_days"))))
        try:
            shifts = rota.put_on_rota(user=request.user, **fields)
        except rota.ShiftRefused as refused:
            return Response(
                {refused.field or "non_field_errors": [str(refused)]}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(ShiftSerializer(shifts, many=True).data, status=status.HTTP_201_CREATED)


class CareVisitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(source="care.episode.referral.reference")
    patient = serializers.SerializerMethodField()
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    tasks = serializers.CharField()
    state = serializers.CharField()

    def get_patient(self, visit) -> dict:
        patient = visit.care.episode.referral.patient
        return {
            "id": patient.pk,
            "name": patient.full_name,
            "nhs_number": patient.nhs_number,
            "address": patient.address,
            "postcode": patient.postcode,
            "key_safety_information": patient.key_safety_information,
        }


class MyCareVisitsView(generics.ListAPIView):
    """A responder's care visits planned for today and any earlier still unrecorded, as on
    "My visits"; each is recorded through /api/rah/referrals/{reference}/record-visit/."""

    serializer_class = CareVisitSerializer

    def get(self, request: Request, *args, **kwargs) -> Response:
        if not request.user.has_role(Role.RAH_RESPONDER):
            raise Http404("No such resource.")
        return audited_page(
            self,
            request,
            selectors.care_visits_for(responder=request.user, now=timezone.now()),
            patient_of=lambda visit: visit.care.episode.referral.patient,
            detail="API my care visits",
            unless_listed_within=timedelta(minutes=15),
        )
