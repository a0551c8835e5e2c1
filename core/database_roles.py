"""The runtime role's privileges, given after every migration (so a new table is covered
at once): read and write the portal's tables, only read and append to the audit trail.
The role owns nothing, so it cannot ALTER a table (nor disable the trail's trigger),
TRUNCATE one, or grant itself more. See `manage.py database_roles` and the README."""

from __future__ import annotations

from django.conf import settings
from psycopg import sql

APPEND_ONLY = ("atb_auditevent",)


def grant_runtime_privileges(*, using, connection) -> None:
    role = settings.DATABASE_RUNTIME_ROLE
    if not role or connection.vendor != "postgresql" or role == connection.settings_dict.get("USER"):
        return
    runtime = sql.Identifier(role)
    with connection.cursor() as cursor:
        if not _role_exists(cursor, role):
            return  # not set up on this server (see `manage.py database_roles`)
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(runtime))
        cursor.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
                runtime
            )
        )
        cursor.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(runtime))
        for table in APPEND_ONLY:
            cursor.execute(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                    sql.Identifier(table), runtime
                )
            )


def _role_exists(cursor, role: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cursor.fetchone() is not None
