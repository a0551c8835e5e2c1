"""The patient search for other systems: the same scope, search and audit as the page."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import PATIENT_SEARCH_ROLES
from core.api_lists import audited_page
from core.models import Role
from portal import performance
from portal.forms import PeriodForm
from portal.search import search_patients
from referrals.serializers import PatientSerializer


class PatientListView(generics.ListAPIView):
    """Patients the user has a relationship with, by NHS number (any spacing) or name."""

    serializer_class = PatientSerializer

    @extend_schema(parameters=[OpenApiParameter("q", str, description="NHS number or part of a name")])
    def get(self, request: Request, *args, **kwargs) -> Response:
        if not request.user.has_role(*PATIENT_SEARCH_ROLES):
            raise PermissionDenied("Your role does not include finding patients.")
        query = request.query_params.get("q", "")[:100]
        return audited_page(
            self,
            request,
            search_patients(user=request.user, query=query),
            patient_of=lambda patient: patient,
            detail=f"API search: {query}",
        )


class PerformanceView(APIView):
    """The dashboard's figures as JSON, for a period and locality: aggregates only."""

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE),
            OpenApiParameter("end", OpenApiTypes.DATE),
            OpenApiParameter("locality", int, description="A neighbourhood's id"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        if not request.user.has_role(Role.SERVICE_MANAGER, Role.ADMINISTRATOR, Role.CIT_MEMBER):
            raise PermissionDenied("Your role does not include the performance figures.")
        default = PeriodForm.default_period()
        form = PeriodForm(request.query_params or None, initial={"start": default.start, "end": default.end})
        if form.is_bound and not form.is_valid():
            raise ValidationError(form.errors)
        period = form.period() if form.is_bound else default
        if not request.user.has_role(Role.SERVICE_MANAGER, Role.ADMINISTRATOR):
            team = request.user.teams.select_related("neighbourhood").first()
            period = performance.Period(
                start=period.start, end=period.end, locality=team and team.neighbourhood
            )
        figures = performance.dashboard(period)
        return Response(
            {
                "start": period.start,
                "end": period.end,
                "locality": period.locality.name if period.locality else None,
                **figures,
            }
        )
