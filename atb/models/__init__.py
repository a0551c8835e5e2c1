from atb.models.access import BreakGlassAccess, BreakGlassReason
from atb.models.audit import AuditAction, AuditEvent
from atb.models.heartbeats import Heartbeat
from atb.models.notifications import OutboundEmail
from atb.models.organisations import (
    BedUnit,
    Neighbourhood,
    Organisation,
    Practice,
    Service,
    Team,
)
from atb.models.patients import Patient
from atb.models.users import Discipline, Role, RoleGrant, User

__all__ = [
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
    "Team",
    "User",
]
