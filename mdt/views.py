from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from atb.audit import record_event
from atb.models import AuditAction, Role
from atb.permissions import role_required
from mdt import services
from mdt.forms import FlagForm


@role_required(Role.MDT_COORDINATOR)
def home(request: HttpRequest) -> HttpResponse:
    """The coordinator's practices, each of which holds its own MDT meeting."""
    practices = (
        request.user.practices.select_related("neighbourhood")
        .annotate(patient_count=Count("patients"))
        .order_by("name")
    )
    return render(request, "mdt/home.html", {"practices": practices})


@require_POST
def flag(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Flag a person the user can see for their practice's next MDT, from the patient page."""
    from atb.views import FLAGGING_ROLES, get_visible_patient  # the core's patient access rule

    patient = get_visible_patient(request, patient_id)
    if not request.user.has_role(*FLAGGING_ROLES):
        raise PermissionDenied("Your role does not include flagging for the MDT.")
    form = FlagForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the person should be discussed (up to 500 characters).")
        return redirect(patient)
    team = request.user.teams.filter(caseload_entries__patient=patient).first()
    try:
        with transaction.atomic():
            services.flag_for_mdt(
                patient=patient, user=request.user, reason=form.cleaned_data["reason"], team=team
            )
            record_event(
                request=request, action=AuditAction.UPDATE, patient=patient, detail="flagged for MDT"
            )
    except services.FlagRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{patient.full_name} is flagged for the practice's next MDT.")
    return redirect(patient)
