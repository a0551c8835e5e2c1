"""The REST API under /api/: resources, the OpenAPI schema and its browsable docs.

DRF marks its views exempt from LoginRequiredMiddleware and authenticates them itself
(token or session), so another system gets 401 JSON rather than the sign-in page.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from mdt.api import AgendaView, MeetingListView, MyActionsView
from portal.api import PatientListView, PerformanceView
from recovery_at_home.api import (
    CLOCK_ACTION_VIEWS,
    AcknowledgeAlertView,
    BedBoardView,
    BedDischargeView,
    CapacityView,
    MyCareVisitsView,
    MyVisitsView,
    OnTheWayView,
    QueueView,
    ShiftsView,
    VisitArrivalView,
    WhoCanGoView,
)
from referrals.api import ReferralViewSet
from teams.api import ENTRY_ACTION_VIEWS, AcceptOntoCaseloadView, CaseloadView, MyCaseloadView

swagger_docs = login_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema"))

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False
router.register("referrals", ReferralViewSet, basename="referral")

app_name = "api"

urlpatterns = [
    *router.urls,
    path("rah/queue/", QueueView.as_view(), name="rah-queue"),
    path("rah/visits/", MyVisitsView.as_view(), name="rah-visits"),
    path("rah/beds/", BedBoardView.as_view(), name="rah-beds"),
    path("rah/capacity/", CapacityView.as_view(), name="rah-capacity"),
    path("rah/shifts/", ShiftsView.as_view(), name="rah-shifts"),
    path("rah/care-visits/", MyCareVisitsView.as_view(), name="rah-care-visits"),
    path("rah/referrals/<str:reference>/who-can-go/", WhoCanGoView.as_view(), name="rah-who-can-go"),
    path("rah/beds/stays/<int:pk>/discharge/", BedDischargeView.as_view(), name="rah-bed-discharge"),
    path("rah/visits/<int:pk>/on-the-way/", OnTheWayView.as_view(), name="rah-on-the-way"),
    path("rah/visits/<int:pk>/arrived/", VisitArrivalView.as_view(), name="rah-visit-arrival"),
    path("rah/alerts/<int:pk>/acknowledge/", AcknowledgeAlertView.as_view(), name="rah-acknowledge"),
    *(
        path(f"rah/referrals/<str:reference>/{action}/", view.as_view(), name=f"rah-{action}")
        for action, view in CLOCK_ACTION_VIEWS.items()
    ),
    path("patients/", PatientListView.as_view(), name="patient-list"),
    path("performance/", PerformanceView.as_view(), name="performance"),
    path("teams/<int:team_id>/caseload/", CaseloadView.as_view(), name="team-caseload"),
    path("caseload/mine/", MyCaseloadView.as_view(), name="my-caseload"),
    path("teams/referrals/<str:reference>/accept/", AcceptOntoCaseloadView.as_view(), name="team-accept"),
    *(
        path(f"teams/entries/<int:entry_id>/{action}/", view.as_view(), name=f"entry-{action}")
        for action, view in ENTRY_ACTION_VIEWS.items()
    ),
    path("mdt/meetings/", MeetingListView.as_view(), name="mdt-meetings"),
    path("mdt/meetings/<int:meeting_id>/agenda/", AgendaView.as_view(), name="mdt-agenda"),
    path("mdt/actions/", MyActionsView.as_view(), name="mdt-actions"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The browsable docs are a page for people: behind the sign-in page. Swagger UI styles
    # itself inline, so this page alone (no patient data on it) allows inline styles.
    path("docs/", csp_update({"style-src": [UNSAFE_INLINE]})(swagger_docs), name="docs"),
]
