"""`make bench`: the portal, its tools, and what the figures are measured against (a plain
admin changelist of referrals, a trivial view) with each response's query count."""

from tools.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tools.bench"]  # noqa: F405
MIDDLEWARE = ["tools.bench.middleware.QueryCountHeaderMiddleware", *MIDDLEWARE]  # noqa: F405
ROOT_URLCONF = "tools.bench.urls"
