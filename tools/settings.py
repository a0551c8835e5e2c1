"""The portal with its tools installed: demo data, national-scale data and the
benchmarks' commands (`make demo`, `make test`, `manage.py seed_scale`). Production runs
atb.settings, which does not install them."""

from atb.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tools"]  # noqa: F405
