"""The lease that lets two beat schedulers run with exactly one sending (core/leases.py)."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from core import leases
from core.models import Lease

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))
TTL = dt.timedelta(seconds=30)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_the_first_takes_it_the_second_waits_until_it_expires(db, clock):
    assert leases.hold(name="beat", holder="a:1", ttl=TTL)
    assert not leases.hold(name="beat", holder="b:2", ttl=TTL)
    clock.shift(dt.timedelta(seconds=20))
    assert leases.hold(name="beat", holder="a:1", ttl=TTL)  # renewed: 30 s from now
    clock.shift(dt.timedelta(seconds=29))
    assert not leases.hold(name="beat", holder="b:2", ttl=TTL)
    assert leases.holder_of(name="beat") == "a:1"
    clock.shift(dt.timedelta(seconds=2))  # a stopped renewing: expired
    assert leases.holder_of(name="beat") is None
    assert leases.hold(name="beat", holder="b:2", ttl=TTL)
    assert not leases.hold(name="beat", holder="a:1", ttl=TTL)  # a came back: b leads now
    lease = Lease.objects.get()
    assert (lease.holder, lease.acquired_at) == ("b:2", NOW + dt.timedelta(seconds=51))


def test_a_clean_stop_gives_it_up_at_once(db, clock):
    leases.hold(name="beat", holder="a:1", ttl=TTL)
    assert not leases.release(name="beat", holder="b:2")  # only its holder gives it up
    assert leases.release(name="beat", holder="a:1")
    assert leases.hold(name="beat", holder="b:2", ttl=TTL)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("taken_before", [False, True])
def test_of_many_asking_at_once_exactly_one_holds_it(taken_before):
    if taken_before:  # the expired lease of a dead holder, to be taken over
        Lease.objects.create(name="beat", holder="dead:0", acquired_at=NOW, expires_at=NOW)
    start, results = threading.Barrier(6), {}

    def ask(n):
        try:
            start.wait()
            results[n] = leases.hold(name="beat", holder=f"beat:{n}", ttl=TTL)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [n for n, won in results.items() if won]
    assert len(winners) == 1
    assert Lease.objects.get().holder == f"beat:{winners[0]}"


def test_the_health_check_says_which_beat_leads(db, client):
    assert client.get("/healthz").json()["scheduler"] == "no beat holds the lease"
    leases.hold(name="beat", holder="node-2:4711", ttl=TTL)
    assert client.get("/healthz").json()["scheduler"] == "led by node-2:4711"
