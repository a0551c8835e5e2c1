"""The patient search for other systems: the same scope, search and audit as the page."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from atb.audit import record_patients_listed
from atb.selectors import search_patients
from atb.views import PATIENT_ROLES
from referrals.api import PatientSerializer


class PatientListView(generics.ListAPIView):
    """Patients the user has a relationship with, by NHS number (any spacing) or name."""

    serializer_class = PatientSerializer

    @extend_schema(parameters=[OpenApiParameter("q", str, description="NHS number or part of a name")])
    def get(self, request: Request, *args, **kwargs) -> Response:
        if not request.user.has_role(*PATIENT_ROLES):
            raise PermissionDenied("Your role does not include finding patients.")
        query = request.query_params.get("q", "")[:100]
        page = self.paginate_queryset(search_patients(user=request.user, query=query))
        with transaction.atomic():
            record_patients_listed(request=request, patients=page, detail=f"API search: {query}")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
