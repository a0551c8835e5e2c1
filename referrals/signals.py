"""What the referrals app tells others, so that it need not know about them."""

from django.dispatch import Signal

# Sent inside the transaction that moved a referral to a new status (keyword: referral).
referral_moved = Signal()

# Sent inside the transaction that created a referral, a new one or one redirected to
# another service (keyword: referral): Recovery at Home starts its response clock on it.
referral_received = Signal()
