from __future__ import annotations

from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from atb.models import Practice, Role, User
from atb.permissions import role_required


@role_required(Role.CIT_MEMBER)
def home(request: HttpRequest) -> HttpResponse:
    """The member's teams: the practices each serves and who is in it."""
    teams = (
        request.user.teams.select_related("neighbourhood")
        .prefetch_related(
            Prefetch(
                "neighbourhood__practices",
                queryset=Practice.objects.annotate(patient_count=Count("patients")).order_by("name"),
            ),
            Prefetch("members", queryset=User.objects.filter(is_active=True).order_by("last_name")),
        )
        .order_by("name")
    )
    return render(request, "teams/home.html", {"teams": teams})
