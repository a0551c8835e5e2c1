"""The Friends and Family Test's rules: who is asked (one invitation a discharge), that a
link works once and until it expires and cannot be guessed, that answers are anonymous,
and that a comment is seen by a manager before anyone else."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import Neighbourhood, Role, Service, Team, User
from feedback.models import Answer, Invitation, Likert, PulseAnswer, PulseSubmission, Response

# How long a link can be answered: a fortnight after the discharge.
LINK_LASTS = timedelta(days=14)
COMMENT_LIMIT = 2000


class FeedbackRefused(Exception):
    """The answer cannot be taken; the message says why, in words for the person."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _month(day: date) -> date:
    return day.replace(day=1)


def invite(
    *, occasion: str, service: Service, team: Team | None, neighbourhood: Neighbourhood | None
) -> tuple[Invitation, str] | None:
    """The invitation after one discharge, and its token (256 random bits, kept only as a
    hash); None if that discharge was invited already."""
    token = secrets.token_urlsafe(32)
    invitation, created = Invitation.objects.get_or_create(
        occasion=occasion,
        defaults={
            "token_hash": _hash(token),
            "service": service,
            "team": team,
            "neighbourhood": neighbourhood,
            "expires_at": timezone.now() + LINK_LASTS,
        },
    )
    return (invitation, token) if created else None


@transaction.atomic
def reissue(*, occasion: str) -> str:
    """A new token for a discharge's unanswered invitation (to open it on a tablet at the
    visit): the link sent before stops working, so one discharge gives one answer."""
    invitation = Invitation.objects.select_for_update().filter(occasion=occasion).first()
    if invitation is None:
        raise FeedbackRefused("No feedback was offered for this discharge.")
    if invitation.used_at is not None:
        raise FeedbackRefused("They have already answered.")
    token = secrets.token_urlsafe(32)
    Invitation.objects.filter(pk=invitation.pk).update(
        token_hash=_hash(token), expires_at=max(invitation.expires_at, timezone.now() + timedelta(hours=1))
    )
    return token


def open_invitation(*, token: str) -> Invitation:
    """The invitation a link opens, if it may still be answered."""
    invitation = Invitation.objects.select_related("service").filter(token_hash=_hash(token)).first()
    if invitation is None:
        raise FeedbackRefused("This link does not work. Please check it was copied whole.")
    if invitation.used_at is not None:
        raise FeedbackRefused("This link has been used already: thank you, the answer was recorded.")
    if invitation.expires_at <= timezone.now():
        raise FeedbackRefused("This link has expired: feedback is taken for two weeks after care ends.")
    return invitation


def _review_of(comment: str) -> str:
    """A comment waits for a manager; an answer without one counts at once."""
    return Response.Review.PENDING if comment else Response.Review.SHOWN


def _checked(answer: str, comment: str) -> str:
    if answer not in Answer.values:
        raise FeedbackRefused("Choose one answer.")
    comment = comment.strip()
    if len(comment) > COMMENT_LIMIT:
        raise FeedbackRefused(f"Please keep the comment to {COMMENT_LIMIT} characters.")
    return comment


@transaction.atomic
def answer_invitation(
    *, token: str, answer: str, comment: str = "", channel: str = Response.Channel.LINK
) -> Response:
    """Take the answer once: the invitation is locked, so of two sends of the same form
    (a double tap) exactly one is kept."""
    invitation = open_invitation(token=token)
    comment = _checked(answer, comment)
    if not Invitation.objects.filter(pk=invitation.pk, used_at=None).update(used_at=timezone.now()):
        raise FeedbackRefused("This link has been used already: thank you, the answer was recorded.")
    return Response.objects.create(
        service=invitation.service,
        team=invitation.team,
        neighbourhood=invitation.neighbourhood,
        answer=answer,
        comment=comment,
        review=_review_of(comment),
        channel=channel,
        month=_month(timezone.localdate()),
    )


def record_from_paper(
    *,
    user: User,
    service: Service,
    team: Team | None,
    neighbourhood: Neighbourhood | None,
    answer: str,
    comment: str,
    month: date,
) -> Response:
    """A paper form typed in by staff: anonymous as any other."""
    if not user.has_role(Role.RAH_COORDINATOR, Role.RAH_RESPONDER, Role.CIT_MEMBER, Role.SERVICE_MANAGER):
        raise FeedbackRefused("Only the services' staff type in paper feedback.")
    comment = _checked(answer, comment)
    if month > timezone.localdate():
        raise FeedbackRefused("The month cannot be in the future.")
    return Response.objects.create(
        service=service,
        team=team,
        neighbourhood=neighbourhood,
        answer=answer,
        comment=comment,
        review=_review_of(comment),
        channel=Response.Channel.PAPER,
        month=_month(month),
    )


def review_comment(*, response: Response | PulseAnswer, user: User, show: bool) -> Response | PulseAnswer:
    """A manager reads a comment (a person's, or the staff pulse's) first, and shows it or
    withholds it (one that names someone, or is abusive)."""
    if not user.has_role(Role.SERVICE_MANAGER):
        raise FeedbackRefused("Only a service manager reviews comments.")
    # Who let a person's comment through is kept; the staff pulse keeps no user at all.
    reviewer = {"reviewed_by": user} if isinstance(response, Response) else {}
    changed = (
        type(response)
        .objects.filter(pk=response.pk, review=Response.Review.PENDING)
        .update(review=Response.Review.SHOWN if show else Response.Review.WITHHELD, **reviewer)
    )
    if not changed:
        raise FeedbackRefused("Another manager reviewed this comment a moment ago.")
    response.refresh_from_db()
    return response


# --- The staff pulse ---------------------------------------------------------------------

PULSE_ROLES = (Role.CIT_MEMBER, Role.RAH_COORDINATOR, Role.RAH_RESPONDER)


def pulse_team_of(user: User) -> tuple[Service, Team | None] | None:
    """Where a member of staff answers for: their team, or Recovery at Home."""
    team = (
        user.teams.select_related("neighbourhood").order_by("pk").first()
        if user.has_role(Role.CIT_MEMBER)
        else None
    )
    if team is not None:
        return Service.objects.get(code=Service.Code.COMMUNITY_INTEGRATED_TEAMS), team
    if user.has_role(Role.RAH_COORDINATOR, Role.RAH_RESPONDER):
        return Service.objects.get(code=Service.Code.RECOVERY_AT_HOME), None
    return None


def pulse_answered(*, user: User, today: date | None = None) -> bool:
    return PulseSubmission.objects.filter(user=user, month=_month(today or timezone.localdate())).exists()


@transaction.atomic
def answer_pulse(
    *, user: User, supported: int, equipped: int, recommend: str, comment: str = ""
) -> PulseAnswer:
    """This month's answer, once: the submission (who) and the answer (what) are two rows
    with nothing between them."""
    where = pulse_team_of(user)
    if where is None:
        raise FeedbackRefused("The pulse is for the teams' and Recovery at Home's staff.")
    if supported not in Likert.values or equipped not in Likert.values:
        raise FeedbackRefused("Choose an answer to each statement.")
    comment = _checked(recommend, comment)
    month = _month(timezone.localdate())
    try:
        with transaction.atomic():
            PulseSubmission.objects.create(user=user, month=month)
    except IntegrityError:
        raise FeedbackRefused("You have answered this month's pulse: thank you.") from None
    service, team = where
    return PulseAnswer.objects.create(
        service=service,
        team=team,
        month=month,
        supported=supported,
        equipped=equipped,
        recommend=recommend,
        comment=comment,
        review=_review_of(comment),
    )
