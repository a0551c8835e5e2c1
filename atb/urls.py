from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from closed_loop import views as closed_loop_views
from core import audit_views, sessions, two_factor
from portal import views
from referrals import fhir_urls

admin.site.site_header = "ATB Portal administration"
admin.site.site_title = "ATB Portal"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/session/stay/", sessions.stay_signed_in, name="stay_signed_in"),
    path("accounts/two-factor/", two_factor.verify, name="two_factor_verify"),
    path("accounts/two-factor/set-up/", two_factor.set_up, name="two_factor_setup"),
    path("healthz", views.healthz, name="healthz"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<int:pk>/", views.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/edit/", views.patient_update, name="patient_update"),
    path("patients/emergency-access/", views.break_glass_access, name="break_glass"),
    path("audit/", audit_views.audit_search, name="audit_search"),
    path("audit/patients/<int:pk>/", audit_views.patient_access_log, name="patient_access_log"),
    path("audit/break-glass/", audit_views.break_glass_report, name="break_glass_report"),
    path("patients/duplicates/", views.duplicate_patients, name="duplicate_patients"),
    path("patients/merge/<int:keep_id>/<int:duplicate_id>/", views.merge_patients, name="merge_patients"),
    path("overview/", views.service_overview, name="service_overview"),
    path("performance/", views.performance_dashboard, name="performance"),
    path("performance/figures/<str:name>/", views.performance_figure, name="performance_figure"),
    path("referrals/export.csv", views.referral_export, name="referral_export"),
    path("referrals/", include("referrals.urls")),
    # A referral's page composes its features (the clock, the caseload entry): the top layer's.
    path("referrals/<str:reference>/", views.referral_detail, name="referral_detail"),
    # Its clock's actions (triage, dispatch, arrival, ...): a refusal re-renders the page.
    path(
        "recovery-at-home/referrals/<str:reference>/<slug:action>/",
        views.referral_clock_action,
        name="referral_clock_action",
    ),
    path("recovery-at-home/", include("recovery_at_home.urls")),
    path("teams/", include("teams.urls")),
    path("mdt/", include("mdt.urls")),
    path("updates/", include("closed_loop.urls")),
    path("feedback/", include("feedback.urls")),
    path("partners/", include("partners.urls")),
    path(
        "referrals/<str:reference>/messages/consent/",
        closed_loop_views.contact_consent,
        name="contact_consent",
    ),
    path(
        "referrals/<str:reference>/feedback/tablet/",
        closed_loop_views.feedback_on_tablet,
        name="feedback_on_tablet",
    ),
    path("api/", include("atb.api_urls")),
    # The FHIR endpoints of the features, under one namespace: the outcome letter is
    # closing the loop's, above referrals, so it is added here rather than there.
    path(
        "fhir/",
        include(
            (
                [
                    *fhir_urls.urlpatterns,
                    path(
                        "DocumentReference/<int:pk>",
                        closed_loop_views.DocumentReferenceRead.as_view(),
                        name="document-reference",
                    ),
                    path("Binary/<int:pk>", closed_loop_views.LetterBinary.as_view(), name="binary"),
                ],
                "fhir",
            )
        ),
    ),
    path("admin/", admin.site.urls),
]
