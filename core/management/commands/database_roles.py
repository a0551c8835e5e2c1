"""Create the two PostgreSQL roles the portal runs with (run as a superuser, once per
server; `make test` runs it before the suite):

- the owner (the user of DATABASE_URL when migrating): owns the schema, runs migrations;
- the runtime role (DATABASE_RUNTIME_ROLE): what the web, worker and beat processes
  connect as in production. It owns nothing, may read and write the portal's tables, and
  may only read and append to the audit trail: no UPDATE, DELETE or TRUNCATE on it, and as
  a non-owner no ALTER TABLE (so no disabling of its trigger). The grants themselves are
  given after every migration (`core.database_roles`).
"""

from __future__ import annotations

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql


class Command(BaseCommand):
    help = "Create the owner and runtime PostgreSQL roles (needs DATABASE_ADMIN_URL, a superuser)."

    def handle(self, *args, **options):
        admin_url = settings.DATABASE_ADMIN_URL
        if not admin_url:
            raise CommandError(
                "Set DATABASE_ADMIN_URL to a superuser's URL, e.g. postgres://postgres@127.0.0.1/postgres"
            )
        database = settings.DATABASES["default"]
        owner, runtime = database["USER"], settings.DATABASE_RUNTIME_ROLE
        if not owner or not runtime or owner == runtime:
            raise CommandError("DATABASE_URL's user (the owner) and DATABASE_RUNTIME_ROLE must be two roles.")
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for role, attributes in ((owner, "LOGIN CREATEDB"), (runtime, "LOGIN")):
                exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
                if not exists:
                    admin.execute(sql.SQL("CREATE ROLE {} " + attributes).format(sql.Identifier(role)))
                    self.stdout.write(f"created role {role}")
            # A database made earlier by another role (a superuser, before these roles
            # existed) passes to the owner, who may then drop and recreate it.
            for name in (
                database["NAME"],
                database.get("TEST", {}).get("NAME") or f"test_{database['NAME']}",
            ):
                if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                    admin.execute(
                        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                            sql.Identifier(name), sql.Identifier(owner)
                        )
                    )
