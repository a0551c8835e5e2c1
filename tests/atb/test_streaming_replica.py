"""The reports' replica check against a real streaming replica: a primary and a standby of
their own (Debian's `initdb`, `pg_basebackup` and `postgres`, on free ports, as the
`postgres` user), because this machine's own server takes no replication connections.

A standby that has replayed all it received is fresh and reports read from it; one whose
replay is held back while the primary writes falls behind, and reports go back to the
primary until it catches up (`core/replica.py`)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import replica
from tools.processes import free_port, wait_for_port

BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"))), None)
pytestmark = pytest.mark.skipif(BIN is None, reason="Debian's PostgreSQL server binaries are not here")
# Registered before the test databases are set up (as tests/atb/test_replica.py does), so a
# test of pages may declare it; pointed at the standby only while a test runs.
connections.settings.setdefault(
    replica.REPLICA, {**connections.settings["default"], "TEST": {"MIRROR": "default"}}
)


def _as_postgres(*command: str) -> list[str]:
    """initdb and postgres refuse to run as root: as the postgres user, when root."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return [*prefix, *command]


def _run(*command: str) -> None:
    subprocess.run(_as_postgres(*command), check=True, capture_output=True)


def _server(data: str, port: int, log) -> subprocess.Popen:
    return subprocess.Popen(
        _as_postgres(
            f"{BIN}/postgres",
            "-D",
            data,
            "-p",
            str(port),
            "-k",
            data,
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "wal_level=replica",
            "-c",
            "max_wal_senders=4",
            "-c",
            "fsync=off",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="module")
def cluster(django_db_setup):
    """(primary port, standby port): a primary with the portal's tables and its streaming
    standby."""
    # Not under pytest's tmp_path: its folders are root's alone, and the servers run as postgres.
    root = Path(tempfile.mkdtemp(prefix="atb-replica-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    primary, standby = str(root / "primary"), str(root / "standby")
    ports = free_port(), free_port()
    servers = []
    log = open(root / "servers.log", "w")  # noqa: SIM115 - closed below
    try:
        _run(f"{BIN}/initdb", "-D", primary, "-U", "postgres", "--auth=trust", "--no-sync")
        servers.append(_server(primary, ports[0], log))
        assert wait_for_port(ports[0], seconds=30), (root / "servers.log").read_text()
        # The portal's schema on the primary (the test database's, as migrated: copied,
        # not migrated again), so the dashboard's queries have tables to read on the standby.
        test_database = connections["default"].settings_dict
        schema = subprocess.run(
            [
                f"{BIN}/pg_dump",
                "--schema-only",
                "--no-owner",
                "--no-privileges",
                "-h",
                test_database["HOST"] or "127.0.0.1",
                "-p",
                str(test_database["PORT"] or 5432),
                "-U",
                "postgres",
                test_database["NAME"],
            ],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(
            [
                f"{BIN}/psql",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(ports[0]),
                "-U",
                "postgres",
                "postgres",
            ],
            input=schema,
            check=True,
            capture_output=True,
        )
        _run(
            f"{BIN}/pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(ports[0]),
            "-U",
            "postgres",
            "-D",
            standby,
            "-R",
            "-X",
            "stream",
        )
        servers.append(_server(standby, ports[1], log))
        assert wait_for_port(ports[1], seconds=30), (root / "servers.log").read_text()
        yield ports
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def reports_from(cluster, settings, django_db_blocker):  # noqa: F811 - the settings fixture
    """The `replica` alias pointed at the standby, reports on (no test database: the
    standby is the only database this test reads)."""
    alias = replica.REPLICA
    # Another test module may have registered the alias (mirrored onto the test database):
    # put it back as it was afterwards.
    saved_settings = connections.settings.get(alias)
    saved_connection = getattr(connections._connections, alias, None)
    if saved_connection is not None:
        delattr(connections._connections, alias)
    connections.settings[alias] = {
        **connections.settings["default"],
        "NAME": "postgres",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": str(cluster[1]),
        "TEST": {"MIRROR": None},
    }
    settings.REPORTS_FROM_REPLICA, settings.REPLICA_MAX_LAG_SECONDS = True, 1
    replica.forget_checks()
    with django_db_blocker.unblock():
        yield cluster
        connections[alias].close()
    delattr(connections._connections, alias)
    if saved_settings is None:
        del connections.settings[alias]
    else:
        connections.settings[alias] = saved_settings
    if saved_connection is not None:
        setattr(connections._connections, alias, saved_connection)
    replica.forget_checks()


def _until(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _fresh() -> str:
    replica.forget_checks()
    return replica.reports_database()


def test_reports_follow_a_real_standby_and_leave_it_while_it_lags(reports_from):
    primary_port, standby_port = reports_from
    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{primary_port}/postgres", autocommit=True
    ) as primary:
        primary.execute("CREATE TABLE referrals_today (n int)")
        assert _until(lambda: _fresh() == replica.REPLICA), "a caught-up standby is where reports read"
        assert replica.replica_lag_seconds() == 0.0

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{standby_port}/postgres", autocommit=True
        ) as standby:
            standby.execute("SELECT pg_wal_replay_pause()")
            for n in range(3):  # the primary goes on writing; the standby receives, not replays
                primary.execute("INSERT INTO referrals_today VALUES (%s)", [n])
                time.sleep(0.8)
            assert _until(lambda: _fresh() == "default", seconds=15), "a lagging standby is left"
            assert replica.replica_lag_seconds() > 1

            standby.execute("SELECT pg_wal_replay_resume()")
            assert _until(lambda: _fresh() == replica.REPLICA), "caught up again: back to the standby"
            (count,) = standby.execute("SELECT count(*) FROM referrals_today").fetchone()
            assert count == 3


@pytest.mark.django_db(transaction=True, databases=["default", replica.REPLICA])
def test_the_dashboard_reads_the_standby_and_the_queue_never_does(reports_from, world, client_for):
    standby = connections[replica.REPLICA]
    assert _until(lambda: _fresh() == replica.REPLICA)
    manager = client_for(world.users["service_manager"])
    with CaptureQueriesContext(standby) as on_standby:
        assert manager.get(reverse("performance")).status_code == 200
    assert len(on_standby.captured_queries) > 5
    coordinator = client_for(world.users["rah_coordinator"])
    for url in (reverse("recovery_at_home:queue"), reverse("recovery_at_home:queue_rows"), "/api/rah/queue/"):
        with CaptureQueriesContext(standby) as on_standby:
            assert coordinator.get(url).status_code == 200
        assert on_standby.captured_queries == [], url
