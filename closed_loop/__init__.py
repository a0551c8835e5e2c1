"""Closing the loop: the referrer, the sending system, the person and their carer hear back.

Above the features (it reads referrals, Recovery at Home, the teams and the MDT), below the
pages. It hears of each status change through `referrals.signals.referral_event_recorded`,
and nothing below it imports it.
"""
