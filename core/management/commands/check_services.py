"""Say in one line which service `make test` cannot reach, and how to start it."""

from __future__ import annotations

import psycopg
import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
REDIS_START = 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no'


class Command(BaseCommand):
    help = "Check that PostgreSQL and Redis answer before the test suite runs."

    def handle(self, *args, **options):
        database = settings.DATABASES["default"]
        if connection.vendor != "postgresql":
            raise CommandError("The tests need PostgreSQL: set DATABASE_URL=postgres://...")
        try:
            # The maintenance database: the test database is created from it.
            psycopg.connect(
                host=database.get("HOST") or None,
                port=database.get("PORT") or None,
                user=database.get("USER") or None,
                password=database.get("PASSWORD") or None,
                dbname="postgres",
                connect_timeout=3,
            ).close()
        except psycopg.OperationalError:
            where = f"{database.get('HOST') or 'localhost'}:{database.get('PORT') or 5432}"
            raise CommandError(f"PostgreSQL is not reachable at {where}; start it with: {PG_START}") from None
        if not settings.REDIS_URL:
            raise CommandError("The tests need Redis: set REDIS_URL=redis://127.0.0.1:6379/0")
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError:
            raise CommandError(
                f"Redis is not reachable at {settings.REDIS_URL}; start it with: {REDIS_START}"
            ) from None
        self.stdout.write("PostgreSQL and Redis are reachable.")
