"""Where each role's work is: the home page redirect and the navigation bar."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Role, User


@dataclass(frozen=True)
class Workspace:
    role: str
    label: str
    url_name: str


# In the order a person holding several roles is sent to them.
WORKSPACES = [
    Workspace(Role.RAH_COORDINATOR, "Queue", "recovery_at_home:queue"),
    Workspace(Role.RAH_RESPONDER, "My visits", "recovery_at_home:my_visits"),
    Workspace(Role.CIT_MEMBER, "My caseload", "teams:my_caseload"),
    Workspace(Role.MDT_COORDINATOR, "MDT meetings", "mdt:home"),
    Workspace(Role.REFERRER, "Referrals", "referrals:home"),
    Workspace(Role.PARTNER_STAFF, "Partner inbox", "partners:inbox"),
    # A manager's work is the figures; the overview is who and where.
    Workspace(Role.SERVICE_MANAGER, "Performance", "performance"),
    Workspace(Role.SERVICE_MANAGER, "Service overview", "service_overview"),
    Workspace(Role.SERVICE_MANAGER, "Export referrals", "referral_export"),
    Workspace(Role.SERVICE_MANAGER, "Feedback", "feedback:figures"),
    Workspace(Role.SERVICE_MANAGER, "Partners", "partners:figures"),
    # An administrator starts in the portal (Django's admin has no way back to it).
    Workspace(Role.ADMINISTRATOR, "Audit trail", "audit_search"),
    Workspace(Role.ADMINISTRATOR, "Break-glass report", "break_glass_report"),
    Workspace(Role.ADMINISTRATOR, "Duplicate patients", "duplicate_patients"),
    Workspace(Role.ADMINISTRATOR, "Administration", "admin:index"),
    Workspace(Role.RAH_COORDINATOR, "Referral inbox", "referrals:inbox"),
    Workspace(Role.RAH_COORDINATOR, "Beds", "recovery_at_home:beds"),
    Workspace(Role.RAH_COORDINATOR, "Rota", "recovery_at_home:rota"),
    Workspace(Role.RAH_COORDINATOR, "Leechmere base", "recovery_at_home:home"),
    Workspace(Role.RAH_COORDINATOR, "Performance", "performance"),
    Workspace(Role.RAH_RESPONDER, "Rota", "recovery_at_home:rota"),
    Workspace(Role.RAH_RESPONDER, "Leechmere base", "recovery_at_home:home"),
    Workspace(Role.CIT_MEMBER, "My team", "teams:home"),
    Workspace(Role.CIT_MEMBER, "Team inbox", "referrals:inbox"),
    Workspace(Role.CIT_MEMBER, "MDT actions", "mdt:my_actions"),
    Workspace(Role.REFERRER, "MDT actions", "mdt:my_actions"),
    Workspace(Role.REFERRER, "Outcome letters", "closed_loop:letters"),
    Workspace(Role.MDT_COORDINATOR, "Case finding", "mdt:case_finding"),
    Workspace(Role.MDT_COORDINATOR, "Outcome letters", "closed_loop:letters"),
]


def workspaces_for(user: User) -> list[Workspace]:
    seen: set[str] = set()
    result = []
    for workspace in WORKSPACES:
        if user.has_role(workspace.role) and workspace.url_name not in seen:
            seen.add(workspace.url_name)
            result.append(workspace)
    return result
