"""Run a module (`python tests/clock_shifted.py celery -A atb worker ...`) with its clock
shifted as the test session's is (TEST_CLOCK_SHIFT_DAYS, see tests/conftest.py), so a
worker, beat or gunicorn started by a test lives on the same day as the test."""

from __future__ import annotations

import datetime as dt
import os
import runpy
import sys

import time_machine

if __name__ == "__main__":
    days = int(os.environ.get("TEST_CLOCK_SHIFT_DAYS") or 0)
    if days:
        time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=days), tick=True).start()
    module, sys.argv = sys.argv[1], [sys.argv[1], *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
