"""What the portal's log says about a refused request: one line, in production and in the
demo (DEBUG on), with no traceback; the refusal itself is in the audit trail."""

from __future__ import annotations

import io
import logging
import sys

import pytest
from django.conf import settings
from django.utils.log import configure_logging


@pytest.fixture
def portal_log(monkeypatch):
    """The portal's logging set up afresh with its handlers writing to a buffer (they take
    sys.stderr when made), and set up again as it was afterwards."""
    buffer = io.StringIO()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", buffer)
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    yield buffer
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


@pytest.mark.parametrize("debug", [False, True], ids=["production", "demo"])
def test_a_refused_page_logs_one_line_without_a_traceback(world, client, portal_log, settings, debug):
    settings.DEBUG = debug
    client.force_login(world.users["gp_a"])

    assert client.get("/overview/").status_code == 403

    log = portal_log.getvalue()
    assert log.count("Forbidden (Permission denied): /overview/") == 1, log
    assert "Traceback" not in log


def test_an_error_still_logs_its_traceback(portal_log):
    """The filter strips refusals only: a real fault keeps what is needed to mend it."""
    try:
        raise ValueError("the fault")
    except ValueError:
        logging.getLogger("django.request").error("Internal Server Error: /x/", exc_info=True)

    log = portal_log.getvalue()
    assert "Traceback" in log and "ValueError: the fault" in log
