"""FHIR R4 endpoints (token or session authentication, like the API)."""

from django.urls import path

from referrals import fhir_views

app_name = "fhir"

urlpatterns = [
    path("Patient/<int:pk>", fhir_views.PatientRead.as_view(), name="patient"),
    path("ServiceRequest/<str:reference>", fhir_views.ServiceRequestRead.as_view(), name="service-request"),
    path("$process-message", fhir_views.ProcessMessage.as_view(), name="process-message"),
]
