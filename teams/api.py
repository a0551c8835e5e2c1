"""A team's caseload for other systems (and the team's own tools): members only."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_forms import cleaned, form_data, form_schema
from core.api_lists import audited_page
from core.models import Discipline, Role
from referrals import selectors as referral_selectors
from referrals.api import ReferralSerializer
from teams import selectors, services
from teams.entry_actions import ENTRY_ACTIONS, perform_entry_action
from teams.forms import AcceptForm
from teams.models import CarePlanGoal, CarePlanReview, CaseloadEntry, Contact


class CaseloadEntrySerializer(serializers.ModelSerializer):
    patient = serializers.SerializerMethodField()
    key_worker = serializers.SerializerMethodField()
    referral = serializers.CharField(source="referral.reference")
    last_contact_at = serializers.DateTimeField(allow_null=True)
    flagged_for_mdt = serializers.BooleanField()

    class Meta:
        model = CaseloadEntry
        fields = [
            "id",
            "patient",
            "key_worker",
            "referral",
            "opened_at",
            "review_due",
            "last_contact_at",
            "flagged_for_mdt",
        ]

    def get_patient(self, entry) -> dict:
        patient = entry.patient
        return {
            "id": patient.pk,
            "name": patient.full_name,
            "nhs_number": patient.nhs_number,
            "practice": patient.practice.ods_code if patient.practice else None,
        }

    def get_key_worker(self, entry) -> dict:
        return {
            "id": entry.key_worker_id,
            "name": entry.key_worker.get_full_name(),
            "discipline": entry.key_worker.discipline,
        }


class CaseloadFilterSerializer(serializers.Serializer):
    key_worker = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    discipline = serializers.ChoiceField(choices=Discipline.choices, required=False)
    practice = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    review = serializers.ChoiceField(choices=["overdue", "due"], required=False)
    flagged = serializers.BooleanField(required=False, default=False)
    sort = serializers.ChoiceField(choices=list(selectors.SORTS), required=False, default="review_due")


class CaseloadView(generics.ListAPIView):
    """The team's open caseload entries; 404 for anyone who is not a member of the team."""

    serializer_class = CaseloadEntrySerializer

    @extend_schema(parameters=[CaseloadFilterSerializer])
    def get(self, request: Request, team_id: int) -> Response:
        if not request.user.has_role(Role.CIT_MEMBER):
            raise Http404("No such team.")
        team = selectors.team_for(user=request.user, team_id=team_id)
        incoming = CaseloadFilterSerializer(data=request.query_params)
        incoming.is_valid(raise_exception=True)
        chosen = incoming.validated_data
        key_worker = team.members.filter(pk=chosen["key_worker"]).first() if "key_worker" in chosen else None
        filters = selectors.CaseloadFilters(
            key_worker=key_worker,
            discipline=chosen.get("discipline", ""),
            practice_id=chosen.get("practice"),
            review=chosen.get("review", ""),
            flagged=chosen["flagged"],
            sort=chosen["sort"],
        )
        return audited_page(
            self,
            request,
            selectors.open_caseload(team=team, filters=filters),
            patient_of=lambda entry: entry.patient,
            detail=f"API caseload: {team}",
        )


class MyCaseloadView(generics.ListAPIView):
    """The member's own open entries, in every team (as "My caseload")."""

    serializer_class = CaseloadEntrySerializer

    def get(self, request: Request) -> Response:
        if not request.user.has_role(Role.CIT_MEMBER):
            raise Http404("No such resource.")
        return audited_page(
            self,
            request,
            selectors.my_caseload(user=request.user),
            patient_of=lambda entry: entry.patient,
            detail="API my caseload",
        )


REFUSED = inline_serializer("CaseloadRefused", {"detail": serializers.CharField()})


class ContactSerializer(serializers.ModelSerializer):
    staff = serializers.CharField(source="staff.get_full_name")

    class Meta:
        model = Contact
        fields = ["id", "kind", "staff", "at", "duration_minutes", "attended", "notes"]


class ReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = CarePlanReview
        fields = ["id", "reviewed_on", "next_review_due", "note"]


class GoalSerializer(serializers.ModelSerializer):
    class Meta:
        model = CarePlanGoal
        fields = ["id", "description", "target_date", "status"]


class EntryStateSerializer(serializers.ModelSerializer):
    key_worker = serializers.CharField(source="key_worker.get_full_name")

    class Meta:
        model = CaseloadEntry
        fields = ["id", "key_worker", "review_due", "closed_at", "discharge_reason"]


# What each action answers with: what it recorded, or the entry as it now stands.
ANSWERS = {
    "contacts": ContactSerializer,
    "goals": GoalSerializer,
    "reviews": ReviewSerializer,
    "key-worker": EntryStateSerializer,
    "discharge": EntryStateSerializer,
}
FORM_SCHEMAS = {"contacts": {"team": None, "user": None}, "key-worker": {"team": None}}


class EntryActionView(APIView):
    """An action of the caseload entry page, by a member of the entry's team, through the
    same form and service as the page (`teams.entry_actions`)."""

    action = ""

    def post(self, request: Request, entry_id: int) -> Response:
        if not request.user.has_role(Role.CIT_MEMBER):
            raise Http404("No such resource.")
        entry = selectors.entry_or_refusal(user=request.user, entry_id=entry_id)
        data = cleaned(ENTRY_ACTIONS[self.action].form(form_data(request), entry=entry, user=request.user))
        try:
            result = perform_entry_action(entry=entry, user=request.user, action=self.action, data=data)
        except services.CaseloadRefused as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        if ANSWERS[self.action] is EntryStateSerializer:
            result = CaseloadEntry.objects.select_related("key_worker").get(pk=entry.pk)
        return Response(ANSWERS[self.action](result).data, status=status.HTTP_201_CREATED)


def _entry_action_view(action: str) -> type[EntryActionView]:
    chosen = ENTRY_ACTIONS[action]
    form_class = chosen.form(None, entry=_SchemaEntry(), user=None).__class__
    name = "".join(part.title() for part in action.split("-"))

    @extend_schema(
        request=form_schema(f"Entry{name}Request", form_class, **FORM_SCHEMAS.get(action, {})),
        responses={201: ANSWERS[action], 409: REFUSED},
        summary=f"{chosen.done.capitalize()} (as on the caseload entry page)",
    )
    def post(self, request: Request, entry_id: int) -> Response:
        return EntryActionView.post(self, request, entry_id)

    return type(f"Entry{name}View", (EntryActionView,), {"action": action, "post": post})


class _SchemaEntry:
    """Stands for an entry when a form is built only to describe its fields."""

    team = None


ENTRY_ACTION_VIEWS = {action: _entry_action_view(action) for action in ENTRY_ACTIONS}


class AcceptOntoCaseloadView(APIView):
    """A referral to one of the member's teams accepted onto its caseload with a key
    worker: the accept page's form and service (`teams.services.accept_onto_caseload`)."""

    @extend_schema(
        request=form_schema("AcceptOntoCaseloadRequest", AcceptForm, team=None),
        responses={200: ReferralSerializer, 409: REFUSED},
        summary="Accept a team's referral onto the caseload (as on the accept page)",
    )
    def post(self, request: Request, reference: str) -> Response:
        if not request.user.has_role(Role.CIT_MEMBER):
            raise referral_selectors.refusal_of(reference=reference)
        referral = selectors.team_referral_to_accept(user=request.user, reference=reference)
        data = cleaned(AcceptForm(form_data(request), team=referral.team))
        try:
            services.accept_onto_caseload(referral=referral, user=request.user, **data)
        except services.CaseloadRefused as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        shown = referral_selectors.referrals_visible_to(user=request.user).get(pk=referral.pk)
        return Response(ReferralSerializer(shown).data)
