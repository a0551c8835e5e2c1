"""What the referrals app tells others, so that it need not know about them."""

from django.dispatch import Signal

# Sent inside the transaction that moved a referral to a new status (keyword: referral).
referral_moved = Signal()

# Sent inside the transaction that created a referral, a new one or one redirected to
# another service (keyword: referral): Recovery at Home starts its response clock on it.
referral_received = Signal()

# Sent inside the transaction that recorded a line of a referral's timeline (keyword:
# event): closing the loop tells the referrer and the sending system of the changes
# meant for them.
referral_event_recorded = Signal()

# Sent inside the transaction that recorded a BaRS message from another system (keyword:
# message), once the changes it asked for are made: the system's answer is owed to it.
referral_message_received = Signal()
