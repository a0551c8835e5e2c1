"""What the MDT tells others, so that it need not know about them."""

from django.dispatch import Signal

# Sent inside the transaction that closed a meeting's minutes (keyword: meeting): each
# person discussed gets an outcome letter to their practice.
minutes_closed = Signal()
