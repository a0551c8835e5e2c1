"""National-scale data for `manage.py seed_scale` (`make bench`): hundreds of
thousands of patients and a million referrals in minutes, made by PostgreSQL itself
(INSERT ... SELECT over generate_series) or streamed with COPY, never a row at a time.

The shape follows the service: each patient is registered at one of the practices and
referred to that practice's neighbourhood team or to Recovery at Home; history is closed;
the open work is what a live day holds (a Recovery at Home queue, team inboxes, caseloads,
the next MDT of each practice).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from faker import Faker
from nhs_number import calculate_checksum

from core.models import Neighbourhood, Practice, Role, RoleGrant, Service, Team, User
from mdt.models import Action, AgendaItem, Meeting
from recovery_at_home.models import Episode, Shift, TriageCategory
from referrals.models import Referral, ReferralEvent
from teams.models import CaseloadEntry
from tools.bulk import insert_select

SCALE_PRACTICES = 40


@dataclass(frozen=True)
class Scale:
    patients: int = 300_000
    referrals: int = 1_000_000
    open_rah: int = 2_000
    open_caseload: int = 50_000
    team_inbox: int = 600
    years: int = 10
    mdt_years: int = 5
    responders: int = 500  # on the Recovery at Home rota, four weeks back and two ahead


Step = Callable[[str, int], None]  # (what, rows) for the progress bar


def seed(scale: Scale, *, progress: Step) -> None:
    if scale.patients % SCALE_PRACTICES:
        raise ValueError(f"--patients must be a multiple of {SCALE_PRACTICES}")
    open_total = scale.open_rah + scale.open_caseload + scale.team_inbox
    if open_total > scale.patients or scale.referrals <= open_total:
        raise ValueError("the open work must fit among the patients and the referrals")
    practices = _practices()
    staff = _staff(practices)
    progress("practices and staff", len(practices))
    shifts = _rota(scale, staff)
    progress("responders' shifts", shifts)
    first_patient = _patients(scale, practices)
    progress("patients", scale.patients)
    _referrals(scale, practices, staff, first_patient, progress)
    _caseloads(scale, staff)
    progress("caseload entries", scale.open_caseload)
    meetings = _meetings(scale, practices, staff, first_patient)
    progress("MDT meetings, agendas and actions", meetings)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    progress("statistics (ANALYZE)", 0)


def _practices() -> list[Practice]:
    """Forty practices over the six neighbourhoods (the demo's and more)."""
    neighbourhoods = list(Neighbourhood.objects.filter(team__isnull=False).order_by("pk"))
    existing = list(Practice.objects.filter(neighbourhood__in=neighbourhoods).order_by("pk"))
    new = [
        Practice(
            name=f"Scale Practice {n:02d}",
            ods_code=f"S{n:05d}",
            neighbourhood=neighbourhoods[n % len(neighbourhoods)],
        )
        for n in range(len(existing), SCALE_PRACTICES)
    ]
    Practice.objects.bulk_create(new)
    return list(Practice.objects.filter(neighbourhood__in=neighbourhoods).order_by("pk")[:SCALE_PRACTICES])


@dataclass
class Staff:
    gps: list[int]  # one per practice, in practice order
    coordinators: list[int]  # one MDT coordinator per practice
    members: dict[int, list[int]]  # team id -> CIT members
    rah_coordinators: list[int]


def _users(kind: str, count: int, role: str) -> list[User]:
    users = User.objects.bulk_create(
        User(username=f"scale.{kind}{n}", password="!", first_name="Scale", last_name=f"{kind.title()} {n}")
        for n in range(count)
    )
    RoleGrant.objects.bulk_create(RoleGrant(user=user, role=role) for user in users)
    return users


def _staff(practices: list[Practice]) -> Staff:
    gps = _users("gp", len(practices), Role.REFERRER)
    coordinators = _users("mdt", len(practices), Role.MDT_COORDINATOR)
    for practice, gp, coordinator in zip(practices, gps, coordinators, strict=True):
        gp.practices.add(practice)
        coordinator.practices.add(practice)
    members = {}
    for team in Team.objects.order_by("pk"):
        team_members = _users(f"cit{team.pk}-", 25, Role.CIT_MEMBER)
        team.members.add(*team_members)
        members[team.pk] = [user.pk for user in team_members]
    rah = _users("rah", 20, Role.RAH_COORDINATOR)
    return Staff(
        gps=[u.pk for u in gps],
        coordinators=[u.pk for u in coordinators],
        members=members,
        rah_coordinators=[u.pk for u in rah],
    )


SCALE_SKILLS = [
    '["falls_assessment"]',
    '["catheter_care", "moving_and_handling"]',
    '["prescribing"]',
    '["end_of_life", "falls_assessment"]',
    "[]",
]


def _rota(scale: Scale, staff: Staff) -> int:
    """`scale.responders` responders on the rota from four weeks ago to two weeks ahead,
    four twelve-hour shifts on and four off, a third of them on nights, with skills."""
    responders = _users("resp", scale.responders, Role.RAH_RESPONDER)
    rows = ", ".join(f"({user.pk}, {n})" for n, user in enumerate(responders))
    today = timezone.localdate().isoformat()
    with connection.cursor() as cursor:
        cursor.execute(
            insert_select(
                Shift,
                {
                    "staff": "u.id",
                    "starts_at": f"(DATE '{today}' + d + CASE WHEN u.n % 3 = 0 THEN time '20:00' "
                    "ELSE time '08:00' END) AT TIME ZONE 'Europe/London'",
                    "ends_at": f"(DATE '{today}' + d + CASE WHEN u.n % 3 = 0 THEN time '20:00' "
                    "ELSE time '08:00' END) AT TIME ZONE 'Europe/London' + interval '12 hours'",
                    "base": "'Leechmere'",
                    "skills": f"(ARRAY[{', '.join(repr(skills) for skills in SCALE_SKILLS)}])[1 + u.n % 5]::jsonb",
                    "created_by": str(staff.rah_coordinators[0]),
                    "created_at": "now()",
                },
                source=(
                    f"(VALUES {rows}) AS u(id, n) CROSS JOIN generate_series(-28, 13) AS d "
                    "WHERE (d + 28 + u.n) % 8 < 4"
                ),
            )
        )
        return cursor.rowcount


def _nhs_numbers(count: int) -> Iterator[str]:
    """Valid NHS numbers from the never-issued 999 range, above the demo's."""
    stem = 999_500_000
    made = 0
    while made < count:
        check = calculate_checksum(str(stem))
        if check is not None and check < 10:
            yield f"{stem}{check}"
            made += 1
        stem += 1


def _patients(scale: Scale, practices: list[Practice]) -> int:
    """Patient k (counting from 0) is registered at practice k % 40. Streamed with COPY."""
    fake = Faker("en_GB")
    fake.seed_instance(10)
    given = [fake.first_name() for _ in range(400)]
    family = [fake.last_name() for _ in range(900)]
    rng = random.Random(10)
    today = timezone.localdate()
    practice_ids = [p.pk for p in practices]
    now = timezone.now()
    columns = "nhs_number, given_name, family_name, date_of_birth, address, postcode, phone, practice_id, lives_alone, care_home, carer_name, carer_relationship, carer_phone, carers_centre_offered, communication_needs, key_safety_information, created_at, updated_at"
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM atb_patient")
        before = cursor.fetchone()[0]
        with cursor.copy(f"COPY atb_patient ({columns}) FROM STDIN") as copy:
            for k, number in enumerate(_nhs_numbers(scale.patients)):
                born = today - timedelta(days=rng.randint(65 * 365, 100 * 365))
                copy.write_row(
                    (
                        number,
                        given[k % len(given)],
                        family[(k * 7) % len(family)],
                        born,
                        f"{1 + k % 200} {family[k % len(family)]} Street",
                        f"SR{1 + k % 9} {k % 10}{'ABDEFGHJ'[k % 8]}{'LNPQRSTU'[k % 8]}",
                        "",
                        practice_ids[k % SCALE_PRACTICES],
                        k % 3 == 0,
                        "",
                        "",
                        "",
                        "",
                        False,
                        "",
                        "",
                        now,
                        now,
                    )
                )
        cursor.execute("SELECT min(id) FROM atb_patient WHERE id > %s", [before])
        return cursor.fetchone()[0]


def _referrals(scale: Scale, practices, staff: Staff, first_patient: int, progress: Step) -> None:
    """Referral n (1..N) is of patient (n % P): history closed over the years, then the
    open work of today. References are ATB-YYYY-NNNNNN as the portal gives them."""
    rah = Service.objects.get(code=Service.Code.RECOVERY_AT_HOME)
    cit = Service.objects.get(code=Service.Code.COMMUNITY_INTEGRATED_TEAMS)
    two_hours = TriageCategory.objects.filter(response_minutes=120).order_by("order").first()
    n_total, p = scale.referrals, scale.patients
    history = n_total - (scale.open_rah + scale.open_caseload + scale.team_inbox)
    caseload_from = history + 1
    inbox_from = caseload_from + scale.open_caseload
    rah_from = inbox_from + scale.team_inbox
    practice_rows = ", ".join(
        f"({i}, {practice.pk}, {practice.neighbourhood.team.pk}, {staff.gps[i]})"
        for i, practice in enumerate(practices)
    )
    # n -> service: Recovery at Home for two in five of the history, and the open RaH work.
    is_rah = f"(n >= {rah_from} OR (n < {caseload_from} AND n % 5 < 2))"
    received = (
        f"CASE WHEN n < {caseload_from} THEN now() - interval '7 days' - "
        f"((({history} - n)::float / {history}) * interval '{scale.years * 365} days') "
        f"WHEN n < {inbox_from} THEN now() - interval '2 days' - ((n - {caseload_from}) * interval '20 minutes') "
        f"WHEN n < {rah_from} THEN now() - ((n - {inbox_from}) * interval '15 minutes') "
        f"ELSE now() - ((n - {rah_from}) * interval '7 seconds') END"
    )
    status = (
        f"CASE WHEN n < {caseload_from} THEN 'closed' WHEN n < {inbox_from} THEN 'in_progress' "
        f"WHEN n < {rah_from} THEN 'received' "
        f"ELSE (ARRAY['received','accepted','in_progress'])[1 + n % 3] END"
    )
    source = (
        f"(SELECT n, received, practice_id, team_id, gp_id FROM ("
        f"SELECT n, {received} AS received, n % {SCALE_PRACTICES} AS practice_index "
        f"FROM generate_series(1, {n_total}) AS n) AS s "
        f"JOIN (VALUES {practice_rows}) AS pr(practice_index, practice_id, team_id, gp_id) USING (practice_index)"
        f") AS r(n, received, practice_id, team_id, gp_id)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            insert_select(
                Referral,
                {
                    "reference": "'S' || n",  # replaced below, by year
                    "patient": f"{first_patient} + n % {p}",
                    "service": f"CASE WHEN {is_rah} THEN {rah.pk} ELSE {cit.pk} END",
                    "team": f"CASE WHEN {is_rah} THEN NULL ELSE team_id END",
                    "source": "(ARRAY['gp','nhs_111','ambulance','hospital_discharge','district_nurse'])[1 + n % 5]",
                    "reason": (
                        f"CASE WHEN {is_rah} THEN (ARRAY['fall','frailty','delirium','carer_breakdown'])[1 + n % 4] "
                        "ELSE (ARRAY['frailty_review','wound_care','discharge_follow_up'])[1 + n % 3] END"
                    ),
                    "clinical_summary": "'Scale data: a referral of the benchmark set.'",
                    "consent_to_referral": "true",
                    "consent_to_share": "true",
                    "referred_by": "gp_id",
                    "referring_practice": "practice_id",
                    "referrer_phone": "'0191 555 0100'",
                    "received_at": "received",
                    "status": status,
                    "status_changed_at": "received",
                    "outcome": f"CASE WHEN n < {caseload_from} THEN 'Completed' ELSE '' END",
                    "created_at": "received",
                },
                source=source,
            )
        )
        progress("referrals", n_total)
        # The portal's own references: ATB-YYYY-NNNNNN, numbered within each UK year.
        cursor.execute(
            """
            UPDATE referrals_referral AS r SET reference = numbered.reference
            FROM (
                SELECT y.id, 'ATB-' || y.year || '-' || lpad((coalesce(c.last_number, 0) + row_number() OVER (PARTITION BY y.year ORDER BY y.received_at, y.id))::text, 6, '0') AS reference
                FROM (SELECT id, received_at, extract(year FROM received_at AT TIME ZONE 'Europe/London')::int AS year
                      FROM referrals_referral WHERE reference LIKE 'S%%') AS y
                LEFT JOIN referrals_referencecounter c ON c.year = y.year
            ) AS numbered
            WHERE r.id = numbered.id
            """
        )
        cursor.execute(
            """
            INSERT INTO referrals_referencecounter (year, last_number)
            SELECT substring(reference from 5 for 4)::int, max(substring(reference from 10)::int)
            FROM referrals_referral WHERE reference LIKE 'ATB-%%' GROUP BY 1
            ON CONFLICT (year) DO UPDATE SET last_number = greatest(
                referrals_referencecounter.last_number, EXCLUDED.last_number)
            """
        )
        progress("references", n_total)
        scale_referrals = "FROM referrals_referral WHERE clinical_summary LIKE 'Scale data:%%'"
        cursor.execute(
            insert_select(
                ReferralEvent,
                {
                    "referral": "id",
                    "kind": "'submitted'",
                    "at": "received_at",
                    "user": "referred_by_id",
                    "note": "'Scale data'",
                },
                source=f"(SELECT id, received_at, referred_by_id {scale_referrals}) AS r",
            )
        )
        cursor.execute(
            insert_select(
                ReferralEvent,
                {
                    "referral": "id",
                    "kind": "'closed'",
                    "at": "received_at + interval '3 days'",
                    "note": "'Completed'",
                },
                source=f"(SELECT id, received_at {scale_referrals} AND status = 'closed') AS r",
            )
        )
        progress("timeline events", n_total * 2)
        cursor.execute(
            insert_select(
                Episode,
                {
                    "referral": "id",
                    "category": str(two_hours.pk) if two_hours else "NULL",
                    "window_minutes": "120",
                    "response_due_at": "received_at + interval '2 hours'",
                    "triaged_at": "received_at + interval '10 minutes'",
                    "arrived_at": "CASE WHEN status = 'closed' THEN received_at + ((id % 170) || ' minutes')::interval END",
                    "arrival_recorded_at": "CASE WHEN status = 'closed' THEN received_at + ((id % 170) || ' minutes')::interval END",
                    "outcome": "CASE WHEN status = 'closed' THEN (ARRAY['remained_at_home','bed_unit','hospital','handed_to_cit'])[1 + id % 4] ELSE '' END",
                    "outcome_recorded_at": "CASE WHEN status = 'closed' THEN received_at + interval '3 days' END",
                    "queue_open": "status <> 'closed'",
                },
                source=f"(SELECT id, received_at, status {scale_referrals} AND service_id = {rah.pk}) AS r",
            )
        )
        progress("Recovery at Home episodes", 0)


def _caseloads(scale: Scale, staff: Staff) -> None:
    """The open CIT referrals in progress are on their team's caseload."""
    key_workers = ", ".join(
        f"({team_id}, {i}, {member})"
        for team_id, members in staff.members.items()
        for i, member in enumerate(members)
    )
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            insert_select(
                CaseloadEntry,
                {
                    "patient": "patient_id",
                    "team": "team_id",
                    "referral": "id",
                    "key_worker": "member",
                    "opened_at": "received_at + interval '1 day'",
                    "opened_by": "member",
                    "review_due": f"DATE '{today.isoformat()}' + (id % 70 - 20)::int",
                },
                source=(
                    "(SELECT r.id, r.patient_id, r.team_id, r.received_at, kw.member FROM referrals_referral r "
                    f"JOIN (VALUES {key_workers}) AS kw(team_id, slot, member) "
                    "ON kw.team_id = r.team_id AND kw.slot = r.id % 25 "
                    "WHERE r.clinical_summary LIKE 'Scale data:%%' AND r.status = 'in_progress' "
                    "AND r.team_id IS NOT NULL) AS r"
                ),
            )
        )


def _meetings(scale: Scale, practices, staff: Staff, first_patient: int) -> int:
    """Every four weeks for five years, each practice's MDT: closed minutes with eight
    people discussed and two actions each, and the next meeting planned."""
    weeks = scale.mdt_years * 52 // 4
    first_tuesday = timezone.localdate() - timedelta(days=timezone.localdate().weekday() - 1 + 7 * 4 * weeks)
    rows = ", ".join(f"({i}, {practice.pk}, {staff.coordinators[i]})" for i, practice in enumerate(practices))
    with connection.cursor() as cursor:
        cursor.execute(
            insert_select(
                Meeting,
                {
                    "practice": "practice_id",
                    "starts_at": f"(DATE '{first_tuesday.isoformat()}' + 28 * w + time '13:00') AT TIME ZONE 'Europe/London'",
                    "duration_minutes": "60",
                    "place": "'Practice meeting room'",
                    "coordinator": "coordinator_id",
                    "status": f"CASE WHEN w < {weeks} THEN 'closed' ELSE 'planned' END",
                    "published_at": f"CASE WHEN w < {weeks} THEN now() END",
                    "closed_at": f"CASE WHEN w < {weeks} THEN (DATE '{first_tuesday.isoformat()}' + 28 * w + 1)::timestamptz END",
                    "closed_by": f"CASE WHEN w < {weeks} THEN coordinator_id END",
                },
                source=(
                    f"generate_series(0, {weeks}) AS w CROSS JOIN (VALUES {rows}) AS p(i, practice_id, coordinator_id)"
                ),
                # The demo's own practices already have their next Tuesdays planned by their
                # schedules; on a Monday the next one is tomorrow, this series' last slot too.
                skip_conflicts=True,
            )
        )
        # Eight patients of the practice per closed meeting: patient k is at practice k % 40.
        per_practice = scale.patients // SCALE_PRACTICES
        cursor.execute(
            insert_select(
                AgendaItem,
                {
                    "meeting": "m.id",
                    "patient": f"{first_patient} + p.i + {SCALE_PRACTICES} * (((m.id * 8 + position) * 13) % {per_practice})",
                    "position": "position",
                    "reason": "'Scale data: frailty review'",
                    "outcome": "(ARRAY['continue','refer','discharge','discuss_again'])[1 + position % 4]",
                    "added_by": "m.coordinator_id",
                    "added_at": "m.starts_at - interval '7 days'",
                    "discussion": "'Discussed at the MDT.'",
                },
                source=(
                    f"mdt_meeting m JOIN (VALUES {rows}) AS p(i, practice_id, coordinator_id) "
                    "ON p.practice_id = m.practice_id CROSS JOIN generate_series(1, 8) AS position "
                    "WHERE m.status = 'closed'"
                ),
            )
        )
        cursor.execute(
            insert_select(
                Action,
                {
                    "item": "i.id",
                    "description": "'Scale data: follow up'",
                    "owner": "m.coordinator_id",
                    "due_date": "(m.starts_at + interval '14 days')::date",
                    "status": "CASE WHEN m.starts_at > now() - interval '8 weeks' THEN 'open' ELSE 'done' END",
                    "created_by": "m.coordinator_id",
                    "created_at": "m.starts_at",
                },
                source="mdt_agendaitem i JOIN mdt_meeting m ON m.id = i.meeting_id WHERE i.position <= 2",
            )
        )
        cursor.execute("SELECT count(*) FROM mdt_meeting")
        return cursor.fetchone()[0]
