"""The FHIR endpoints: read a Patient or a ServiceRequest (scoped by relationship and
audited like every patient view), and receive BaRS referral messages."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.audit import Refused, record_event
from core.input import BoundedJSONParser
from core.models import AuditAction, Patient, Role
from core.selectors import patients_visible_to
from referrals import fhir, selectors

FHIR_JSON = "application/fhir+json"


class FhirRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirParser(BoundedJSONParser):
    media_type = FHIR_JSON


class FhirView(APIView):
    renderer_classes = [FhirRenderer, JSONRenderer]
    parser_classes = [FhirParser, BoundedJSONParser]

    def handle_exception(self, exc):
        """Errors as OperationOutcome, with the status DRF would have given."""
        response = super().handle_exception(exc)
        if response.status_code >= 400:
            code = {401: "login", 403: "forbidden", 404: "not-found"}.get(response.status_code, "processing")
            detail = (
                response.data.get("detail", "") if isinstance(response.data, dict) else str(response.data)
            )
            response.data = fhir.operation_outcome((code, str(detail)))
        return response


class PatientRead(FhirView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="FHIR R4 Patient (UK Core)")
    def get(self, request: Request, pk: int) -> Response:
        patient = patients_visible_to(user=request.user).filter(pk=pk).first()
        if patient is None:
            raise Refused("No patient that you may see.", patient=Patient.objects.filter(pk=pk).first())
        record_event(request=request, action=AuditAction.VIEW, patient=patient, detail="FHIR Patient")
        return Response(fhir.patient_resource(patient))


class ServiceRequestRead(FhirView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="FHIR R4 ServiceRequest (UK Core)")
    def get(self, request: Request, reference: str) -> Response:
        referral = (
            selectors.referrals_visible_to(user=request.user)
            .select_related("patient", "service", "team", "referred_by", "episode__category")
            .filter(reference=reference)
            .first()
        )
        if referral is None:
            raise selectors.refusal_of(reference=reference)
        record_event(
            request=request, action=AuditAction.VIEW, patient=referral.patient, obj=referral, detail="FHIR"
        )
        return Response(fhir.service_request_resource(referral))


class ProcessMessage(FhirView):
    """BaRS: POST a message Bundle (MessageHeader, ServiceRequest, Patient; Encounter, Flag
    and Consent optional). 201 with the ServiceRequest made, 200 if that message id was
    received before, 4xx with an OperationOutcome (and nothing saved) otherwise."""

    @extend_schema(
        request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT}
    )
    def post(self, request: Request) -> Response:
        if not request.user.has_role(Role.REFERRER):
            raise PermissionDenied("This account may not send referrals.")
        try:
            received = fhir.receive_message(message=request.data, sender=request.user)
        except fhir.MessageRefused as refused:
            status_code = 409 if refused.issues[0][0] == "duplicate" else 422
            if refused.issues[0][0] in ("structure", "invalid", "required"):
                status_code = 400
            return Response(fhir.operation_outcome(*refused.issues), status=status_code)
        # What was sent comes back, never the record it matched (`core.access`).
        body = fhir.service_request_resource(received.referral)
        response = Response(body, status=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK)
        response["Location"] = f"/fhir/ServiceRequest/{received.referral.reference}"
        return response


def keep_fhir_operation_names(result, generator, request, public):
    """drf-spectacular drops the "$" of FHIR operation paths; put it back in the schema."""
    result["paths"] = {
        path.replace("/fhir/process-message", "/fhir/$process-message"): item
        for path, item in result["paths"].items()
    }
    return result
