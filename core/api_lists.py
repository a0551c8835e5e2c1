"""What every list endpoint does with a page: serialise it and record whom it showed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.audit import record_patients_listed


def audited_page(
    view: GenericAPIView,
    request: Request,
    queryset,
    *,
    patient_of: Callable,
    detail: str,
    unless_listed_within: timedelta | None = None,
) -> Response:
    """One page of the list, its patients recorded in the audit trail in the same transaction."""
    page = view.paginate_queryset(queryset)
    with transaction.atomic():
        record_patients_listed(
            request=request,
            patients=[patient_of(row) for row in page],
            detail=detail,
            unless_listed_within=unless_listed_within,
        )
    return view.get_paginated_response(view.get_serializer(page, many=True).data)
