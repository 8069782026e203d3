"""Scenarios for the message types added from the seed catalogue (M29, M18, ...): at least a share,
a withhold and an edge from the source documents for each type. Rows use the helpers of
tests/policy/scenarios.py and are appended to its `SCENARIOS`.
"""

from __future__ import annotations

from typing import Any

from tests.policy.bases import CSC, DELETE, POLICE, consent_refused, not_sought
from tests.policy.scenarios import (
    ALL,
    CONSENTED,
    IMMEDIATE,
    LIKELY,
    MASH,
    NOT_TOLD_E1,
    POL,
    SCHOOL_DSL,
    SOCIAL_WORKER_FAMILY,
    e,
    s,
)

SCHOOL_SUPPORT = {"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "provide_support"}
YOT = {"agency_id": "yot-fenmere", "role": "yos_officer", "need_to_know": "protect_child"}
HOUSING = {"agency_id": "housing-brookside", "role": "housing_officer", "need_to_know": "protect_child"}
CSC_SW = "csc-fenmere-mash/social_worker"
PEER_REFERRAL = (
    "DDSCP-RiskToOthers, 5. Sexual Abuse > Consent: referred immediately to Children's Social Care or the Police"
)
PEER_STRATEGY = (
    "DDSCP-RiskToOthers, 4. Children's Social Care Response: strategy meeting within 5 days; separate social workers"
)
UNCONVICTED = (
    "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
    "Another > Information Sharing In Special Circumstances: Bichard compliance, legal advice per case"
)
SUPERVISING = (
    "CPSCP-Procedures, Identification of Individuals who Pose a Risk to Children > 2. Management of Individuals who "
    "Pose a Risk of Harm to Children: supervising agencies tell social care"
)
CSC_REFERRAL_DUTIES = ("acknowledge_referral", "decide_referral", "strategy_meeting", "separate_social_workers")
UNDER_13 = {
    "concern_tags": ["sexual_activity_under_13", "child_on_child"],
    "subjects": [{"subject_ref": "subj-1", "role_in_case": "child", "age_years": 11}],
}
NOT_CONVICTED: dict[str, Any] = {
    "conviction_status": "not_convicted",
    "convictions": DELETE,
    "allegations_and_intelligence": "Fictional: allegations from three unconnected children.",
}

DA_SCHOOL = (
    "CPSCP-Procedures, Significant harm > Categories of Abuse and Neglect: children affected by seeing, hearing and "
    "living with domestic abuse"
)
BASE_SCHOOL = {"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "provide_support"}
SCHOOL_NOT_NEEDED = ["alleged_perpetrator", "incident_summary", "victim_location"]
SCHOOL_OFFICE = {**BASE_SCHOOL, "role": "designated_senior_manager"}

GR3_ADVICE = (
    "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 3: seek advice "
    "without disclosing the identity of the individual"
)
NAMED_PROFESSIONAL = "gp-willow-lane/named_professional"
IG_LEAD = {"agency_id": "csc-fenmere-mash", "role": "ig_lead", "need_to_know": "assess_and_decide"}
CALDICOTT = {"agency_id": "csc-fenmere-mash", "role": "caldicott_guardian", "need_to_know": "assess_and_decide"}

PATHOLOGIST = {"agency_id": "pathologist-fenmere", "role": "pathologist", "need_to_know": "statutory_notification"}
PATHOLOGY = "pathologist-fenmere/pathologist"
CORONER = {"agency_id": "coroner-fenmere", "role": "coroners_officer", "need_to_know": "statutory_notification"}
CORONERS_OFFICE = "coroner-fenmere/coroners_officer"
SCENE_SOURCE = (
    "CPSCP-Procedures, Child death > 3.6.1 On call Health Professional: the scene-of-death visit's documentation is "
    "shared with the pathologist within 24 hours of the visit if during the working week"
)
PM_SOURCE = (
    "CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist: provisional report within 5 working days "
    "of the examination, complete report within one week if there are no complex investigations, to the Coroner"
)
PM_HELD: dict[str, Any] = {
    "sender": {"agency_id": "coroner-fenmere", "role": "coroners_officer"},
    "recipients": [PATHOLOGIST],
    "payload": {"stage": "post_mortem_held", "post_mortem_at": "2026-03-02T09:00:00Z"},
}
PM_PROVISIONAL: dict[str, Any] = {
    "sender": {"agency_id": "pathologist-fenmere", "role": "pathologist"},
    "recipients": [CORONER],
    "payload": {
        "stage": "pm_provisional_report",
        "post_mortem_at": "2026-03-02T09:00:00Z",
        "post_mortem_findings": "Fictional: preliminary cause of death; samples retained.",
    },
}
MARAC_SOURCE = (
    "CPCH-Policy, 5. Response to the Parent/Carer: a parent or carer at high risk and a child of 16+ means a MARAC "
    "referral; under 16 MARAC may consider it case by case"
)


def _cpch(age: int) -> dict[str, Any]:
    return {
        "concern_tags": ["cpch"],
        "risk": {"da_high_risk_marac": True},
        "subjects": [{"subject_ref": "subj-1", "role_in_case": "child", "age_years": age}],
    }


CATALOGUE_SCENARIOS: list[dict[str, Any]] = [
    # --- M19 scene documentation and post-mortem reports (T34, T35) ----------------------------
    s(
        "m19-notice-recording-the-scene-visit-owes-the-pathologist-its-documentation",
        SCENE_SOURCE,
        "death",
        {"recipients": [PATHOLOGIST], "payload": {"scene_visit_at": "2026-03-01T09:00:00Z"}},
        {PATHOLOGY: e("share", "GR1", obligations=("scene_documentation_to_pathologist",))},
    ),
    s(
        "m19-coroner-tells-the-pathologist-the-examination-was-held",
        PM_SOURCE,
        "death",
        PM_HELD,
        {PATHOLOGY: e("share", "GR1", also=("C1",), obligations=("post_mortem_provisional_report",))},
    ),
    s(
        "m19-provisional-report-to-the-coroner-starts-the-complete-report",
        PM_SOURCE,
        "death",
        PM_PROVISIONAL,
        {CORONERS_OFFICE: e("share", "GR1", also=("C6",), obligations=("post_mortem_complete_report",))},
    ),
    s(
        "m19-complex-investigations-defer-the-complete-report",
        PM_SOURCE,
        "death",
        {**PM_PROVISIONAL, "payload": {**PM_PROVISIONAL["payload"], "complex_investigations": "Fictional: metabolic."}},
        {CORONERS_OFFICE: e("share", "GR1", obligations=("post_mortem_further_results",))},
    ),
    s(
        "m19-post-mortem-report-not-straight-to-police",
        PM_SOURCE,
        "death",
        {**PM_PROVISIONAL, "recipients": [{**POLICE, "need_to_know": "statutory_notification"}]},
        {POL: e("no_share", "C4", withheld=ALL)},
    ),
    # --- M01 CPCH referral: MARAC for a child causing harm aged 16+ ----------------------------
    s(
        "m01-cpch-high-risk-child-of-16-refer-to-marac",
        MARAC_SOURCE,
        "referral",
        {**CONSENTED, **_cpch(16)},
        {MASH: e("share", "GR1", obligations=("refer_to_marac", "strategy_meeting"))},
    ),
    s(
        "m01-cpch-high-risk-child-of-15-marac-case-by-case",
        MARAC_SOURCE,
        "referral",
        {**CONSENTED, **_cpch(15)},
        {MASH: e("share", "GR1", obligations=("consider_marac",))},
    ),
    # --- M29 child-on-child harm referral ------------------------------------------------------
    s(
        "m29-school-hsb-to-csc-and-police-consented",
        PEER_STRATEGY,
        "peer",
        {**CONSENTED, "recipients": [CSC, POLICE]},
        {MASH: e("share", "GR1", also=("GR4", "C4"), obligations=CSC_REFERRAL_DUTIES), POL: e("share", "GR1")},
    ),
    s(
        "m29-copied-to-other-school",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 4: strict need to know",
        "peer",
        {**CONSENTED, "recipients": [CSC, SCHOOL_SUPPORT]},
        {MASH: e("share", "GR1"), SCHOOL_DSL: e("no_share", "C4", withheld=ALL)},
    ),
    s(
        "m29-under-13-parents-refuse",
        "DDSCP-RiskToOthers, 5. Sexual Abuse > Consent: a child protection referral is required in all such cases",
        "peer",
        {
            **UNDER_13,
            "risk": LIKELY,
            "consent": consent_refused(),
            "parental_position": {"parents_informed": True, "parent_withheld_permission": True},
            "recipients": [CSC, POLICE],
        },
        {
            MASH: e("share_urgent_review_after", "C7", also=("I44", "GR4"), obligations=CSC_REFERRAL_DUTIES),
            POL: e("share_urgent_review_after", "C7", also=("I44",), obligations=("review_urgent_share",)),
        },
    ),
    s(
        "m29-social-worker-talks-to-family-of-child-who-harmed",
        "IOW-DA-Perpetrators, Practice Principles for Engaging People Using Abusive Behaviours > 2. Safety as a "
        "Priority: nothing that increases risk reaches the family",
        "peer",
        {
            "risk": LIKELY,
            "consent": not_sought("risk_significant_harm"),
            "parental_position": NOT_TOLD_E1,
            "recipients": [SOCIAL_WORKER_FAMILY],
        },
        {
            CSC_SW: e(
                "share_minimised",
                "GR5",
                withheld=["harmed_child_location", "risk_to_others", "sexual_behaviour_details"],
            )
        },
    ),
    s(
        "m29-immediate-evidence-at-risk-to-police",
        PEER_REFERRAL,
        "peer",
        {
            "risk": IMMEDIATE,
            "consent": not_sought("loss_of_evidence"),
            "parental_position": {
                "parents_informed": False,
                "parent_withheld_permission": None,
                "reason_not_informed": "loss_of_evidence",
            },
            "recipients": [POLICE],
        },
        {POL: e("share_urgent_review_after", "I14", obligations=("review_urgent_share",))},
    ),
    s(
        "m29-parents-position-not-recorded",
        "CPSCP-Procedures, Responding to concerns about a child > Consulting parents: parental knowledge recorded",
        "peer",
        {},
        {MASH: e("hold_for_authorisation", "GR2", also=("GR4",))},
    ),
    # --- M18 information about an adult who may pose a risk --------------------------------------
    s(
        "m18-probation-convicted-adult-to-csc",
        SUPERVISING,
        "adult_risk",
        {},
        {MASH: e("share", "GR1", also=("C4",), obligations=("assess_adult_risk",))},
    ),
    s(
        "m18-unconvicted-adult-needs-advice",
        UNCONVICTED,
        "adult_risk",
        {"payload": NOT_CONVICTED},
        {MASH: e("needs_advice", "GR3", also=("I26",))},
    ),
    s(
        "m18-unconvicted-adult-immediate-risk",
        "CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies and organisations: "
        "urgent referral must not be delayed",
        "adult_risk",
        {"risk": IMMEDIATE, "payload": NOT_CONVICTED, "recipients": [CSC, POLICE]},
        {
            MASH: e("share_urgent_review_after", "I14", also=("I26",), obligations=("assess_adult_risk",)),
            POL: e("share_urgent_review_after", "I14", also=("I26",)),
        },
    ),
    s(
        "m18-copied-to-school",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 4: strict need to know",
        "adult_risk",
        {"recipients": [CSC, SCHOOL_SUPPORT]},
        {MASH: e("share", "GR1"), SCHOOL_DSL: e("no_share", "C4", withheld=ALL)},
    ),
    s(
        "m18-yot-and-housing",
        SUPERVISING,
        "adult_risk",
        {"recipients": [YOT, HOUSING]},
        {
            "yot-fenmere/yos_officer": e("share_minimised", "C3", withheld=["adult_address"]),
            "housing-brookside/housing_officer": e("no_share", "C4", withheld=ALL),
        },
    ),
    # --- M35 police tell a pupil's school DSL of a domestic-abuse incident ----------------------
    s(
        "m35-police-tells-school-dsl-the-minimum",
        DA_SCHOOL,
        "da_school",
        {},
        {
            SCHOOL_DSL: e(
                "share_minimised", "C3", withheld=SCHOOL_NOT_NEEDED, obligations=("acknowledge_before_school_day",)
            )
        },
    ),
    s(
        "m35-minimal-notice-shares",
        DA_SCHOOL,
        "da_school",
        {"payload": dict.fromkeys(SCHOOL_NOT_NEEDED, DELETE)},
        {SCHOOL_DSL: e("share", "GR1", also=("C4",), obligations=("acknowledge_before_school_day",))},
    ),
    s(
        "m35-addressed-to-school-office-not-dsl",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 4: role queues, not inboxes",
        "da_school",
        {"recipients": [SCHOOL_OFFICE]},
        {"school-oakfield-primary/designated_senior_manager": e("no_share", "C4", withheld=ALL)},
    ),
    s(
        "m35-sent-by-health-not-police",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 1: the right sender",
        "da_school",
        {"sender": {"agency_id": "health-visiting-fenmere", "role": "health_visitor"}},
        {SCHOOL_DSL: e("no_share", "C1", withheld=ALL)},
    ),
    s(
        "m35-immediate-risk-school-still-minimal",
        "CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies and organisations",
        "da_school",
        {"risk": IMMEDIATE, "recipients": [BASE_SCHOOL, CSC]},
        {
            SCHOOL_DSL: e("share_minimised", "C3", withheld=SCHOOL_NOT_NEEDED),
            MASH: e("share_urgent_review_after", "I14", obligations=("review_urgent_share",)),
        },
    ),
    # --- M32 advice request (de-identified) -----------------------------------------------------
    s(
        "m32-gp-unsure-asks-named-professional",
        GR3_ADVICE,
        "advice",
        {"sender_in_doubt": True},
        {NAMED_PROFESSIONAL: e("share", "GR1", also=("GR3", "C2"), obligations=("give_advice",))},
    ),
    s(
        "m32-to-ig-lead-and-caldicott-guardian",
        "CPSCP-Procedures, Information sharing > Confidentiality and Consent: the Caldicott Guardian advises",
        "advice",
        {"lawful_basis": "public_interest", "recipients": [IG_LEAD, CALDICOTT]},
        {
            "csc-fenmere-mash/ig_lead": e("share", "GR1", obligations=("give_advice",)),
            "csc-fenmere-mash/caldicott_guardian": e("share", "GR1", obligations=("give_advice",)),
        },
    ),
    s(
        "m32-used-for-a-referral",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 1: justify the purpose",
        "advice",
        {"purpose": "safeguarding_concern"},
        {NAMED_PROFESSIONAL: e("no_share", "C1", withheld=ALL)},
    ),
    s(
        "m32-immediate-risk-still-goes-now",
        "CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies and organisations: "
        "must not be delayed by the need for consultation",
        "advice",
        {"risk": IMMEDIATE, "recipients": [{**IG_LEAD, "role": "dsl"}]},
        {"csc-fenmere-mash/dsl": e("share_urgent_review_after", "I14", obligations=("give_advice",))},
    ),
]
