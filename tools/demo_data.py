"""Reference data for Sunderland and demo users, shared by `seed_demo` and the tests.

Practice names and ODS codes are invented; the neighbourhoods, team bases, services,
bed units and partner organisations are ATB's own.
"""

from __future__ import annotations

from core.models import Discipline, Role

DEMO_PASSWORD = "Sunderland-demo-2026"

ORGANISATIONS = [
    ("Sunderland Care and Support", "SCAS"),
    ("Sunderland City Council", "Council"),
    # Integrated care boards replaced clinical commissioning groups in July 2022.
    ("NHS North East and North Cumbria Integrated Care Board", "ICB"),
    ("Sunderland GP Alliance", "GP Alliance"),
    ("South Tyneside and Sunderland NHS Foundation Trust", "STSFT"),
    ("Cumbria, Northumberland, Tyne and Wear NHS Foundation Trust", "CNTW"),
    ("Age UK Sunderland", "Age UK"),
    ("Sunderland Carers Centre", "Carers Centre"),
]

# neighbourhood, code, CIT base, practices (ODS code, name, postcode)
# Residents per neighbourhood, for the dashboard's rate per 100,000: INVENTED, of the order
# of Sunderland's 277,000 people split across its six neighbourhoods. An administrator
# keeps the real figures (the neighbourhood's population in the admin).
POPULATIONS = {
    "coalfields": 53_000,
    "washington": 67_000,
    "east": 44_000,
    "north": 41_000,
    "west-one": 37_000,
    "west-two": 35_000,
}

# Minutes by road between the neighbourhoods, and from the Leechmere base ("base"), for the
# dispatch suggestion: INVENTED, plausible for a city of Sunderland's size by day (one
# figure each way; within a neighbourhood, about ten minutes). An administrator keeps
# the real ones (Travel times in the admin).
TRAVEL_MINUTES = {
    ("base", "east"): 8,
    ("base", "north"): 15,
    ("base", "west-one"): 14,
    ("base", "west-two"): 16,
    ("base", "coalfields"): 18,
    ("base", "washington"): 22,
    ("east", "north"): 12,
    ("east", "west-one"): 12,
    ("east", "west-two"): 15,
    ("east", "coalfields"): 20,
    ("east", "washington"): 22,
    ("north", "west-one"): 14,
    ("north", "west-two"): 12,
    ("north", "coalfields"): 25,
    ("north", "washington"): 18,
    ("west-one", "west-two"): 10,
    ("west-one", "coalfields"): 15,
    ("west-one", "washington"): 15,
    ("west-two", "coalfields"): 18,
    ("west-two", "washington"): 12,
    ("coalfields", "washington"): 18,
}
WITHIN_NEIGHBOURHOOD_MINUTES = {"coalfields": 12, "washington": 12}  # the others: 10


NEIGHBOURHOODS = [
    (
        "Sunderland Coalfields",
        "coalfields",
        "Houghton",
        [
            ("A89901", "Houghton Le Spring Medical Practice", "DH4 4DN"),
            ("A89902", "Hetton Group Practice", "DH5 9HW"),
        ],
    ),
    (
        "Sunderland Washington",
        "washington",
        "Washington",
        [
            ("A89903", "Washington Galleries Surgery", "NE38 7RZ"),
            ("A89904", "Concord Medical Centre", "NE37 2SE"),
        ],
    ),
    (
        "Sunderland East",
        "east",
        "Hendon",
        [
            ("A89905", "Hendon Health Centre", "SR2 8PD"),
            ("A89906", "Millfield Surgery", "SR4 6AR"),
        ],
    ),
    (
        "Sunderland North",
        "north",
        "Bunny Hill",
        [
            ("A89907", "Bunny Hill Surgery", "SR5 5AZ"),
            ("A89908", "Fulwell Medical Centre", "SR6 9JL"),
        ],
    ),
    (
        "Sunderland West One",
        "west-one",
        "Grindon",
        [
            ("A89909", "Grindon Lane Surgery", "SR4 8HW"),
            ("A89910", "Pennywell Medical Group", "SR4 9AR"),
        ],
    ),
    (
        "Sunderland West Two",
        "west-two",
        "Grindon",
        [
            ("A89911", "Silksworth Health Centre", "SR3 2AN"),
            ("A89912", "Doxford Park Surgery", "SR3 2ND"),
        ],
    ),
]

RAH_SERVICE = {
    "name": "Recovery at Home",
    "base": "Leechmere",
    "base_address": "Leechmere Industrial Estate, Sunderland SR2 9TQ",
    "hours": "24 hours, 7 days",
}
CIT_SERVICE = {"name": "Community Integrated Teams", "hours": "08:00 to 20:00, 7 days"}
# The alliance's partner services (an administrator adds more): code, name, organisation's
# short name, what it offers, the reason a referral to it starts with, and whether it
# records the social prescribing information standard's measures.
PARTNER_SERVICES = [
    (
        "carers-centre",
        "Sunderland Carers Centre",
        "Carers Centre",
        "Carer's assessment, breaks and support for unpaid carers",
        "carers_assessment",
        False,
    ),
    (
        "age-uk-living-well",
        "Age UK Sunderland: living well",
        "Age UK",
        "Link workers: practical help, activities and company",
        "living_well",
        False,
    ),
    (
        "age-uk-home-from-hospital",
        "Age UK Sunderland: home from hospital",
        "Age UK",
        "Help settling home after a hospital stay",
        "discharge_support",
        False,
    ),
    (
        "social-prescribing",
        "Sunderland social prescribing",
        "GP Alliance",
        "Link workers: what matters to the person, and the groups and help nearby",
        "social_prescribing",
        True,
    ),
]
# Which partner services each demo partner worker receives referrals for.
PARTNER_STAFF_SERVICES = {
    "carers.centre": ["carers-centre"],
    "age.uk": ["age-uk-living-well", "age-uk-home-from-hospital"],
    "link.worker": ["social-prescribing"],
}
BED_UNITS = [
    ("Houghton", "Houghton Primary Care Centre, Houghton le Spring DH4 4DN", 20),
    ("Town End Farm", "Town End Farm, Sunderland SR5 4NX", 22),
]

# username, first, last, role, discipline, organisation short name, practice ODS codes,
# team neighbourhood codes (each demo user's phone is 0191 555 01NN, NN their position)
DEMO_USERS = [
    ("gp.a", "Amira", "Khan", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89905"], []),
    ("gp.b", "Ben", "Robson", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89907"], []),
    ("rah.coordinator", "Claire", "Dobson", Role.RAH_COORDINATOR, Discipline.NURSE, "SCAS", [], []),
    ("rah.responder", "Dan", "Elliott", Role.RAH_RESPONDER, Discipline.PARAMEDIC, "SCAS", [], []),
    ("cit.member", "Emma", "Forster", Role.CIT_MEMBER, Discipline.DISTRICT_NURSE, "STSFT", [], ["east"]),
    (
        "mdt.coordinator",
        "Fiona",
        "Graham",
        Role.MDT_COORDINATOR,
        Discipline.ADMIN,
        "GP Alliance",
        ["A89905", "A89906"],
        [],
    ),
    ("manager", "Gareth", "Hall", Role.SERVICE_MANAGER, "", "SCAS", [], []),
    ("admin", "Helen", "Irving", Role.ADMINISTRATOR, "", "ICB", [], []),
    (
        "carers.centre",
        "Irene",
        "Jackson",
        Role.PARTNER_STAFF,
        Discipline.CARERS_SUPPORT,
        "Carers Centre",
        [],
        [],
    ),
    ("age.uk", "Jack", "Kirkup", Role.PARTNER_STAFF, Discipline.LINK_WORKER, "Age UK", [], []),
    ("link.worker", "Kemi", "Lawal", Role.PARTNER_STAFF, Discipline.LINK_WORKER, "GP Alliance", [], []),
]

# Colleagues, so teams have several members and work has someone to go to: a GP at each
# other practice, more Recovery at Home staff, and two more members in every CIT. They
# sign in as first.last with the same password. (first, last, role, discipline,
# organisation, practice ODS codes, team neighbourhood codes)
DEMO_COLLEAGUES = [
    ("Rachel", "Oduya", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89901"], []),
    ("Martin", "Pearce", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89902"], []),
    ("Joanne", "Carr", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89903"], []),
    ("Imran", "Siddiqui", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89904"], []),
    ("Laura", "Bainbridge", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89906"], []),
    ("Peter", "Lowther", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89908"], []),
    ("Nadia", "Hussain", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89909"], []),
    ("Simon", "Charlton", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89910"], []),
    ("Kate", "Moffat", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89911"], []),
    ("Andrew", "Tait", Role.REFERRER, Discipline.GP, "GP Alliance", ["A89912"], []),
    ("Joanne", "Reed", Role.RAH_COORDINATOR, Discipline.NURSE, "SCAS", [], []),
    ("Priya", "Nair", Role.RAH_RESPONDER, Discipline.NURSE, "SCAS", [], []),
    ("Tom", "Hutchinson", Role.RAH_RESPONDER, Discipline.PHYSIOTHERAPIST, "SCAS", [], []),
    ("Lisa", "Wardle", Role.RAH_RESPONDER, Discipline.HEALTHCARE_ASSISTANT, "SCAS", [], []),
    ("Kevin", "Armstrong", Role.RAH_RESPONDER, Discipline.PARAMEDIC, "SCAS", [], []),
    ("Sarah", "Milburn", Role.CIT_MEMBER, Discipline.COMMUNITY_MATRON, "STSFT", [], ["east"]),
    ("Yusuf", "Rahman", Role.CIT_MEMBER, Discipline.PHYSIOTHERAPIST, "STSFT", [], ["east"]),
    ("Gillian", "Todd", Role.CIT_MEMBER, Discipline.DISTRICT_NURSE, "STSFT", [], ["coalfields"]),
    ("Mark", "Rutherford", Role.CIT_MEMBER, Discipline.OCCUPATIONAL_THERAPIST, "STSFT", [], ["coalfields"]),
    ("Helen", "Scott", Role.CIT_MEMBER, Discipline.DISTRICT_NURSE, "STSFT", [], ["washington"]),
    ("Chris", "Bell", Role.CIT_MEMBER, Discipline.SOCIAL_WORKER, "Council", [], ["washington"]),
    ("Anne", "Gibson", Role.CIT_MEMBER, Discipline.DISTRICT_NURSE, "STSFT", [], ["north"]),
    ("Paul", "Dixon", Role.CIT_MEMBER, Discipline.COMMUNITY_MATRON, "STSFT", [], ["north"]),
    ("Claire", "Watson", Role.CIT_MEMBER, Discipline.DISTRICT_NURSE, "STSFT", [], ["west-one"]),
    ("Jamal", "Osei", Role.CIT_MEMBER, Discipline.PHYSIOTHERAPIST, "STSFT", [], ["west-one"]),
    ("Louise", "Hogg", Role.CIT_MEMBER, Discipline.DISTRICT_NURSE, "STSFT", [], ["west-two"]),
    ("David", "Kerr", Role.CIT_MEMBER, Discipline.SOCIAL_WORKER, "Council", [], ["west-two"]),
]
