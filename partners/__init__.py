"""The alliance's partners: the Carers Centre, Age UK and social prescribing receive
referrals through the referrals machinery; their staff see each at its minimum
(`core.access.partner_referral_scope`), accept or decline, and record what was offered
and what came of it, in the social prescribing information standard's terms where the
service records them. Carers are people of their own, linked to whom they care for.

Sits beside `recovery_at_home`, `teams` and `feedback`: it uses `referrals` and `core`,
and the portal's pages link to it.
"""
