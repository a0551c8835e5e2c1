"""The person's page (no sign-in, nothing of the record on it) and the staff's: a paper form
typed in, comments reviewed, the figures."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.audit import record_event
from core.models import AuditAction, Role
from core.permissions import role_required
from feedback import figures, services
from feedback.forms import AnswerForm, PaperForm, PulseForm
from feedback.models import PulseAnswer, Response


@login_not_required
@never_cache
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The question, for the person or their family, on their phone or a responder's
    tablet: the service's name and nothing else of the record."""
    try:
        invitation = services.open_invitation(token=token)
    except services.FeedbackRefused as refused:
        # A link that opens nothing is recorded as a refusal: guessing shows in the trail.
        record_event(request=request, action=AuditAction.REFUSED, detail=f"feedback link: {refused}")
        return render(request, "feedback/closed.html", {"why": str(refused)}, status=404)
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        channel = Response.Channel.TABLET if request.user.is_authenticated else Response.Channel.LINK
        try:
            services.answer_invitation(token=token, channel=channel, **form.cleaned_data)
        except services.FeedbackRefused as refused:
            return render(request, "feedback/closed.html", {"why": str(refused)}, status=409)
        return render(request, "feedback/thanks.html", {"service": invitation.service})
    status = 400 if form.errors else 200
    return render(
        request, "feedback/answer.html", {"form": form, "service": invitation.service}, status=status
    )


@role_required(Role.RAH_COORDINATOR, Role.RAH_RESPONDER, Role.CIT_MEMBER, Role.SERVICE_MANAGER)
def paper(request: HttpRequest) -> HttpResponse:
    form = PaperForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_from_paper(user=request.user, **form.cleaned_data)
        except services.FeedbackRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, "Recorded. Thank you: it counts in the month it was given.")
            return redirect("feedback:paper")
    return render(request, "feedback/paper.html", {"form": form}, status=400 if form.errors else 200)


@role_required(Role.SERVICE_MANAGER)
def review(request: HttpRequest) -> HttpResponse:
    """Comments waiting for a manager, oldest first."""
    pending = Response.objects.filter(review=Response.Review.PENDING).select_related(
        "service", "neighbourhood"
    )
    staff = PulseAnswer.objects.filter(review=Response.Review.PENDING).select_related("service", "team")
    return render(
        request,
        "feedback/review.html",
        {
            "pending": pending.order_by("month", "pk")[:50],
            "staff_pending": staff.order_by("month", "pk")[:50],
        },
    )


@require_POST
@role_required(Role.SERVICE_MANAGER)
def decide(request: HttpRequest, pk: int, decision: str, of=Response) -> HttpResponse:
    response = get_object_or_404(of, pk=pk)
    try:
        services.review_comment(response=response, user=request.user, show=decision == "show")
    except services.FeedbackRefused as refused:
        messages.error(request, str(refused))
    return redirect("feedback:review")


@role_required(Role.SERVICE_MANAGER, Role.ADMINISTRATOR, Role.RAH_COORDINATOR, Role.CIT_MEMBER)
def figures_page(request: HttpRequest) -> HttpResponse:
    """The last twelve months by neighbourhood and month, and the comments let through."""
    end = timezone.localdate()
    start = (end.replace(day=1) - timedelta(days=335)).replace(day=1)
    return render(
        request,
        "feedback/figures.html",
        {
            "rows": figures.fft_rows(start=start, end=end),
            "comments": figures.comments_shown(start=start, end=end)[:50],
            "pulse": figures.pulse_rows(start=start, end=end),
            "staff_comments": figures.staff_comments_shown(start=start, end=end)[:50],
            "start": start,
            "end": end,
            "perms_review": request.user.has_role(Role.SERVICE_MANAGER),
        },
    )


@role_required(*services.PULSE_ROLES)
def pulse(request: HttpRequest) -> HttpResponse:
    """This month's staff pulse: three statements and a box, once a month, anonymous."""
    if services.pulse_answered(user=request.user):
        return render(request, "feedback/pulse.html", {"answered": True})
    form = PulseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_pulse(user=request.user, **form.cleaned_data)
        except services.FeedbackRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, "Thank you: your answer is in this month's pulse, anonymously.")
        return redirect("feedback:pulse")
    return render(request, "feedback/pulse.html", {"form": form}, status=400 if form.errors else 200)
