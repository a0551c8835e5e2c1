"""MDT lists for other systems: meetings and agendas (coordinators of the practice only)
and each person's actions."""

from __future__ import annotations

from django.http import Http404
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.api_lists import audited_page
from core.models import Role
from mdt import selectors
from mdt.models import Action, AgendaItem, Meeting


class MeetingSerializer(serializers.ModelSerializer):
    practice = serializers.CharField(source="practice.ods_code")
    coordinator = serializers.CharField(source="coordinator.get_full_name")

    class Meta:
        model = Meeting
        fields = [
            "id",
            "practice",
            "starts_at",
            "duration_minutes",
            "place",
            "video_link",
            "coordinator",
            "status",
        ]


class ActionSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner_display")

    class Meta:
        model = Action
        fields = ["id", "description", "owner", "due_date", "status"]


class AgendaItemSerializer(serializers.ModelSerializer):
    patient = serializers.SerializerMethodField()
    presenter = serializers.CharField(source="presenter.get_full_name", default=None)
    actions = ActionSerializer(many=True)

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "position",
            "patient",
            "reason",
            "presenter",
            "clinical_question",
            "discussion",
            "outcome",
            "actions",
        ]

    def get_patient(self, item) -> dict:
        return {"id": item.patient_id, "name": item.patient.full_name, "nhs_number": item.patient.nhs_number}


class MyActionSerializer(ActionSerializer):
    patient = serializers.CharField(source="item.patient.full_name")
    meeting = serializers.IntegerField(source="item.meeting_id")

    class Meta(ActionSerializer.Meta):
        fields = [*ActionSerializer.Meta.fields, "patient", "meeting"]


class MeetingListView(generics.ListAPIView):
    """Meetings of the coordinator's practices, soonest first."""

    serializer_class = MeetingSerializer

    def get_queryset(self):
        if not self.request.user.has_role(Role.MDT_COORDINATOR):
            raise Http404("No such resource.")
        return selectors.meetings_visible_to(user=self.request.user).order_by("starts_at", "pk")


class AgendaView(generics.ListAPIView):
    """A meeting's agenda in order, with discussion, outcome and actions."""

    serializer_class = AgendaItemSerializer

    def get(self, request: Request, meeting_id: int) -> Response:
        if not request.user.has_role(Role.MDT_COORDINATOR):
            raise Http404("No such resource.")
        meeting = selectors.meeting_for(user=request.user, meeting_id=meeting_id)
        return audited_page(
            self,
            request,
            selectors.agenda(meeting=meeting),
            patient_of=lambda item: item.patient,
            detail=f"API agenda: {meeting}",
        )


class MyActionsView(generics.ListAPIView):
    """The user's MDT actions and their teams', open first."""

    serializer_class = MyActionSerializer

    def get(self, request: Request) -> Response:
        return audited_page(
            self,
            request,
            selectors.actions_of(user=request.user),
            patient_of=lambda action: action.item.patient,
            detail="API my MDT actions",
        )
