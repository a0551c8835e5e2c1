"""The portal's runtime role cannot rewrite the audit trail by any of the ways a
superuser or an owner could: TRUNCATE, the trigger's own bypass setting, or disabling
the trigger. It owns nothing; it reads, writes the portal's tables and appends audit rows."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings

from core.models import AuditEvent
from tests.background import url_of_the_test_database

pytestmark = pytest.mark.skipif(
    not settings.DATABASE_RUNTIME_ROLE, reason="make test sets DATABASE_RUNTIME_ROLE"
)

BYPASS = (
    "SELECT set_config('pgtrigger.ignore', '{' || string_agg(tgname, ',') || '}', true) FROM pg_trigger"
    " WHERE tgrelid = 'atb_auditevent'::regclass AND NOT tgisinternal"
)
ATTEMPTS = {
    "truncate": ["TRUNCATE atb_auditevent"],
    "the trigger's bypass setting, to update": [BYPASS, "UPDATE atb_auditevent SET detail = 'rewritten'"],
    "the trigger's bypass setting, to delete": [BYPASS, "DELETE FROM atb_auditevent"],
    "disabling the trigger": [
        "ALTER TABLE atb_auditevent DISABLE TRIGGER USER",
        "DELETE FROM atb_auditevent",
    ],
}


class RolledBack(Exception):
    pass


@pytest.fixture
def trail(transactional_db):
    """One audit row in the trail, committed, for the attempts to rewrite."""
    AuditEvent.objects.create(action="view", detail="kept")


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_each_attempt_is_real_for_the_tables_owner_and_refused_to_the_runtime_role(trail, attempt):
    # The owner (as a superuser would) gets through: the attempt is a real one...
    with psycopg.connect(url_of_the_test_database(), autocommit=True) as owner:
        with pytest.raises(RolledBack), owner.transaction():
            for statement in ATTEMPTS[attempt]:
                owner.execute(statement)
            assert (
                owner.execute("SELECT count(*) FROM atb_auditevent WHERE detail = 'kept'").fetchone()[0] == 0
            )
            raise RolledBack
    # ...and the role the portal runs as is refused.
    with psycopg.connect(url_of_the_test_database(as_runtime_role=True), autocommit=True) as runtime:
        with pytest.raises(psycopg.errors.InsufficientPrivilege), runtime.transaction():
            for statement in ATTEMPTS[attempt]:
                runtime.execute(statement)
    assert list(AuditEvent.objects.values_list("detail", flat=True)) == ["kept"]


@pytest.fixture
def runtime(trail):
    with psycopg.connect(url_of_the_test_database(as_runtime_role=True), autocommit=True) as connection:
        yield connection


def test_the_runtime_role_owns_nothing_and_does_the_portals_work(runtime):
    role = settings.DATABASE_RUNTIME_ROLE
    owned = runtime.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = %s", [role]
    ).fetchone()[0]
    superuser = runtime.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role]).fetchone()[0]
    assert (owned, superuser) == (0, False)
    with runtime.transaction():
        runtime.execute(
            "INSERT INTO atb_auditevent (at, action, username, object_type, object_id, path, detail)"
            " VALUES (now(), 'view', '', '', '', '', 'appended')"
        )
        runtime.execute("UPDATE atb_practice SET name = name")  # the portal's own tables are its to change
    assert AuditEvent.objects.filter(detail="appended").exists()
