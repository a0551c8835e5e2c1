from core.models.access import BreakGlassAccess, BreakGlassReason
from core.models.audit import AuditAction, AuditEvent
from core.models.heartbeats import Heartbeat
from core.models.leases import Lease
from core.models.notifications import OutboundEmail
from core.models.organisations import (
    BedUnit,
    Neighbourhood,
    Organisation,
    Practice,
    Service,
    Team,
)
from core.models.patients import CaringRelationship, Patient, StatedGender
from core.models.users import Discipline, Role, RoleGrant, User

__all__ = [
    "Lease",
    "CaringRelationship",
    "AuditAction",
    "AuditEvent",
    "BedUnit",
    "BreakGlassAccess",
    "BreakGlassReason",
    "Discipline",
    "Heartbeat",
    "Neighbourhood",
    "Organisation",
    "OutboundEmail",
    "Patient",
    "Practice",
    "Role",
    "RoleGrant",
    "Service",
    "StatedGender",
    "Team",
    "User",
]
