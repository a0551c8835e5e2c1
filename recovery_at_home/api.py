"""The Recovery at Home queue for other systems and screens (wallboards, the 111 desk)."""

from __future__ import annotations

from datetime import timedelta

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from atb.audit import record_patients_listed
from recovery_at_home import selectors
from recovery_at_home.models import Episode
from recovery_at_home.views import RAH_STAFF


class QueueEntrySerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="referral.reference")
    patient = serializers.SerializerMethodField()
    reason = serializers.CharField(source="referral.get_reason_display")
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
        return selectors.queue_state(episode, now=self.context["now"])

    def get_seconds_left(self, episode) -> int | None:
        if episode.arrived_at is not None:
            return None
        return int((episode.response_due_at - self.context["now"]).total_seconds())


class QueueFilterSerializer(serializers.Serializer):
    category = serializers.CharField(
        required=False, allow_blank=True, help_text="A category code, or untriaged."
    )
    locality = serializers.CharField(required=False, allow_blank=True, help_text="A neighbourhood code.")
    state = serializers.ChoiceField(choices=selectors.QueueState.CHOICES, required=False, allow_blank=True)


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
        episodes = selectors.open_queue(filters=selectors.QueueFilters(**filters.validated_data), now=now)
        page = self.paginate_queryset(episodes)
        record_patients_listed(
            request=request,
            patients=[episode.referral.patient for episode in page],
            detail="API Recovery at Home queue",
            unless_listed_within=timedelta(minutes=15),
        )
        serializer = self.get_serializer(page, many=True, context={"now": now, "request": request})
        return self.get_paginated_response(serializer.data)
