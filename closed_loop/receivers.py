"""Each line of a referral's timeline, as it is recorded (in its transaction): the outcome
letter when it closes, the referrer's update, the sending system's response (which
offers the letter), the person's message; and the MDT's letters when minutes close."""

from django.dispatch import receiver

from closed_loop import feedback_offers, outcome_letters, person_messages, referrer_updates, system_responses
from mdt.models import Meeting
from mdt.signals import minutes_closed
from referrals.models import InboundMessage, ReferralEvent
from referrals.signals import referral_event_recorded, referral_message_received


@receiver(referral_event_recorded, sender=ReferralEvent)
def close_the_loop(sender, *, event: ReferralEvent, **kwargs) -> None:
    if event.kind in referrer_updates.UPDATE_FOR_EVENT:
        outcome_letters.write_for_closed_referral(event=event)
        if token := feedback_offers.offer_after_discharge(event=event):
            person_messages.queue_feedback_link(event=event, token=token)
        referrer_updates.record_update(event=event)
        system_responses.queue_response(event=event)
    person_messages.queue_for_event(event=event)


@receiver(referral_message_received, sender=InboundMessage)
def answer_the_message(sender, *, message: InboundMessage, **kwargs) -> None:
    system_responses.answer_message(message=message)


@receiver(minutes_closed, sender=Meeting)
def write_mdt_letters(sender, *, meeting: Meeting, **kwargs) -> None:
    outcome_letters.write_for_meeting(meeting=meeting, user=meeting.closed_by)
