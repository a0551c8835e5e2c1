from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import time_machine
from django.core import mail

from core.email_delivery import deliver, send_unsent_emails
from core.models import OutboundEmail
from core.notifications import queue_email
from tests.email_backends import FlakyEmailBackend

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def test_a_mail_server_failing_twice_then_recovering_gives_one_email(db, settings):
    settings.EMAIL_BACKEND = "tests.email_backends.FlakyEmailBackend"
    FlakyEmailBackend.failures_left = 2
    email = queue_email(key="referral-1-accepted", to="gp@example.nhs.uk", subject="Accepted", body="...")

    assert send_unsent_emails() == {"failed": 1}
    assert send_unsent_emails() == {"failed": 1}
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboundEmail.Status.PENDING, 2)
    assert "mail server unavailable" in email.last_error  # visible to administrators

    assert send_unsent_emails() == {"sent": 1}
    assert send_unsent_emails() == {}
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert (email.status, email.last_error) == (OutboundEmail.Status.SENT, "")


def test_the_same_message_is_queued_once(db):
    first = queue_email(key="referral-7-declined", to="gp@example.nhs.uk", subject="Declined", body="...")
    again = queue_email(key="referral-7-declined", to="gp@example.nhs.uk", subject="Declined", body="...")
    assert first.pk == again.pk
    assert OutboundEmail.objects.count() == 1


def test_an_email_being_sent_is_not_sent_again_by_a_second_worker(db):
    email = queue_email(key="k", to="gp@example.nhs.uk", subject="s", body="b")
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundEmail.Status.SENDING, claimed_at=NOW)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        assert deliver(email_id=email.pk) == "not claimable"
    # A worker that died holding it: after five minutes the email is retried.
    with time_machine.travel(NOW + dt.timedelta(minutes=6), tick=False):
        assert send_unsent_emails() == {"sent": 1}
    assert len(mail.outbox) == 1


def test_an_email_that_keeps_failing_is_given_up_and_shown_as_failed(db, settings):
    settings.EMAIL_BACKEND = "tests.email_backends.FlakyEmailBackend"
    FlakyEmailBackend.failures_left = 100
    email = queue_email(key="k", to="gp@example.nhs.uk", subject="s", body="b")
    for _ in range(12):
        send_unsent_emails()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboundEmail.Status.FAILED, 10)
    FlakyEmailBackend.failures_left = 0


@contextmanager
def broker_unreachable():
    """Point Celery at a port nothing listens on (connection refused), then restore it.
    Celery builds its producer pools from the broker URL on first use, so both are reset."""
    from atb.celery import app

    def reset_pools():
        app._pool = None
        app.amqp._producer_pool = None

    broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url = broker
        reset_pools()


def test_a_broker_that_is_down_does_not_undo_or_fail_the_change(db, django_capture_on_commit_callbacks):
    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True):
        queue_email(key="k", to="gp@example.nhs.uk", subject="s", body="b")
    assert send_unsent_emails() == {"sent": 1}  # the sweep sends it instead
