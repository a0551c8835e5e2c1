"""A stand-in for a mail server that is down for its first few sends (the outside world)."""

from __future__ import annotations

from django.core.mail.backends.locmem import EmailBackend


class FlakyEmailBackend(EmailBackend):
    failures_left = 0

    def send_messages(self, messages):
        if FlakyEmailBackend.failures_left > 0:
            FlakyEmailBackend.failures_left -= 1
            raise ConnectionRefusedError("mail server unavailable")
        return super().send_messages(messages)
