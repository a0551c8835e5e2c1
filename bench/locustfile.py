"""Mixed traffic for `make bench-load`: Recovery at Home coordinators polling the live
queue, GPs sending referrals, CIT members opening their caseloads. Each simulated person
is already signed in (bench_load makes their sessions, so the measured minute is work,
not password hashing); the referral to send comes from the environment."""

from __future__ import annotations

import itertools
import json
import os
import re

from locust import HttpUser, between, task

SESSIONS = json.loads(os.environ["LOAD_SESSIONS"])
REFERRAL = json.loads(os.environ["LOAD_REFERRAL"])
MARKER = os.environ["LOAD_MARKER"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_next_session = {role: itertools.cycle(keys) for role, keys in SESSIONS.items()}
_serial = itertools.count(1)


class SignedIn(HttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 3)

    def on_start(self):
        self.client.cookies.set("sessionid", next(_next_session[self.role]))


class Coordinator(SignedIn):
    """The queue page polls its rows every 15 seconds; coordinators also reload it."""

    role = "coordinator"
    fixed_count = len(SESSIONS[role])  # one simulated person per session bench_load made

    @task(5)
    def poll_queue(self):
        self.client.get(
            "/recovery-at-home/queue/rows/", headers={"HX-Request": "true"}, name="queue rows (htmx)"
        )

    @task(1)
    def open_queue(self):
        self.client.get("/recovery-at-home/queue/", name="queue page")


class GP(SignedIn):
    role = "gp"
    fixed_count = len(SESSIONS[role])  # one simulated person per session bench_load made

    @task
    def refer(self):
        form = self.client.get("/referrals/new/", name="referral form")
        serial = next(_serial)
        with self.client.post(
            "/referrals/new/",
            {
                **REFERRAL,
                "csrfmiddlewaretoken": CSRF.search(form.text).group(1),
                "family_name": f"{MARKER}-{os.getpid()}-{serial}",
            },
            name="submit referral",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"not accepted: {response.status_code}")


class CITMember(SignedIn):
    role = "cit"
    fixed_count = len(SESSIONS[role])  # one simulated person per session bench_load made

    @task
    def my_caseload(self):
        self.client.get("/teams/mine/", name="my caseload")
