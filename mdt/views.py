from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from atb.models import Role
from atb.permissions import role_required


@role_required(Role.MDT_COORDINATOR)
def home(request: HttpRequest) -> HttpResponse:
    """The coordinator's practices, each of which holds its own MDT meeting."""
    practices = (
        request.user.practices.select_related("neighbourhood")
        .annotate(patient_count=Count("patients"))
        .order_by("name")
    )
    return render(request, "mdt/home.html", {"practices": practices})
