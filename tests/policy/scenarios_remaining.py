"""Scenarios for the remaining catalogue types (M04, M05, M07-M10, M27, M28, M30, M33, M34) and the
adviser's answer to an M32 question: at least a share, a withhold and an edge from the source
documents for each. Rows use the helpers of tests/policy/scenarios.py and are appended to its
`SCENARIOS`.
"""

from __future__ import annotations

from typing import Any

from tests.policy.bases import CSC, POLICE, consent_given, consent_refused, not_sought
from tests.policy.scenarios import ALL, LIKELY, MASH, POL, TOLD, e, s

SW = "csc-fenmere-mash/social_worker"
TM = "csc-fenmere-mash/team_manager"
EASTHOLT = "csc-eastholt/team_manager"
SCHOOL = "school-oakfield-primary/dsl"
HOLLINS = "school-hollins-academy/dsl"
GP = "gp-willow-lane/gp"
HOUSING_KEY = "housing-brookside/housing_officer"
CDOP = "cdop-fenmere/cdop_manager"
SCHOOL_R = {"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "protect_child"}
HOUSING = {"agency_id": "housing-brookside", "role": "housing_officer", "need_to_know": "protect_child"}
ALLOCATED = {"agency_id": "csc-fenmere-mash", "role": "social_worker", "need_to_know": "protect_child"}
CONSENTED_TOLD = {"lawful_basis": "consent", "consent": consent_given(), "parental_position": TOLD}
REFUSED = {
    "consent": consent_refused(),
    "parental_position": {"parents_informed": True, "parent_withheld_permission": True},
}
REFERRAL_CLOCKS = ("acknowledge_referral", "decide_referral")

NEW_INFO = (
    "CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer: new information passed "
    "without delay to the allocated social worker; emergency duty team out of hours if the concern is high"
)
CRIME = (
    "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Where a Crime may have "
    "been Committed: police informed at the earliest opportunity"
)
S47_MOVE = (
    "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
    "Another > Child Subject To Section 47 Enquiries"
)
CONFERENCE = "CPSCP-Procedures, Communication difficulties > 4. Using Interpreters with Family Members"
FORCED_MARRIAGE = (
    "CPSCP-Procedures, Forced marriage > 5. Protection and Action to be Taken: manage information about the young "
    "person's whereabouts carefully"
)
ASSESSMENT = "CPSCP-Procedures, Child and family assessment > 6. Actions and Outcomes"
PLAN_REVIEWS = "DDSCP-RiskToOthers, 4. Children's Social Care Response: child in need plan reviewed at 3 months"
PREBIRTH = "CPSCP-Procedures, Child and family assessment > 1.1 Pre-birth 'Good Practice Steps'"
CLOSURE = (
    "CPSCP-Procedures, Misuse of substances > 4. Protection and Action to be Taken: discuss plans with the other "
    "services before the case is closed"
)
DOGS = "CPSCP-Procedures, Dangerous dogs > Dangerous Dogs"
ESCALATE = (
    "CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer: no decision in three "
    "working days, ask to speak to a line manager"
)
SUICIDE = (
    "CPSCP-Procedures, Suicide > 2. Triggering a multi-agency response in the serious suicide attempt or death of a "
    "young person from suicide"
)
HEALTH_THRESHOLD = (
    "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 3: seek advice "
    "where in doubt; health information has a higher threshold"
)

REMAINING_SCENARIOS: list[dict[str, Any]] = [
    # --- M04 additional information for the allocated social worker ------------------------------
    s(
        "m04-health-visitor-tells-allocated-social-worker",
        NEW_INFO,
        "new_info",
        {},
        {
            SW: e("share", "GR1", also=("C4", "GR3"), obligations=("consider_new_information",)),
        },
    ),
    s(
        "m04-copied-to-housing",
        NEW_INFO,
        "new_info",
        {"recipients": [ALLOCATED, HOUSING]},
        {
            SW: e("share", "GR1"),
            HOUSING_KEY: e("no_share", "C4", withheld=ALL),
        },
    ),
    s(
        "m04-out-of-hours-high-concern-to-edt-not-mash",
        NEW_INFO,
        "new_info",
        {
            "risk": LIKELY,
            "recipients": [{"agency_id": "csc-fenmere-mash", "role": "edt", "need_to_know": "protect_child"}, CSC],
        },
        {
            "csc-fenmere-mash/edt": e("share", "GR1", also=("C7",), obligations=("consider_new_information",)),
            MASH: e("no_share", "C4", withheld=ALL),
        },
    ),
    # --- M05 crime notification to the police ----------------------------------------------------
    s(
        "m05-csc-tells-police-of-possible-assault",
        CRIME,
        "crime",
        {"risk": {**LIKELY, "crime_suspected": True}},
        {
            POL: e("share", "GR1", also=("C7",), obligations=("decide_investigation",)),
        },
    ),
    s(
        "m05-no-risk-recorded-injuries-withheld",
        CRIME,
        "crime",
        {"recipients": [POLICE, SCHOOL_R]},
        {
            POL: e("share_minimised", "C3", withheld=["injuries"], obligations=("decide_investigation",)),
            SCHOOL: e("no_share", "C4", withheld=ALL),
        },
    ),
    s(
        "m05-school-reports-crime-parents-not-told",
        f"{CRIME}; a discussion plans how parents are told without jeopardising the investigation",
        "crime",
        {
            "sender": {"agency_id": "school-oakfield-primary", "role": "dsl"},
            "risk": {"immediate_significant_harm": True, "likely_significant_harm": True, "crime_suspected": True},
            "consent": not_sought("prejudice_crime"),
            "parental_position": {
                "parents_informed": False,
                "parent_withheld_permission": None,
                "reason_not_informed": "prejudice_crime",
            },
        },
        {POL: e("share_urgent_review_after", "I14", obligations=("decide_investigation", "review_urgent_share"))},
    ),
    # --- M07 section 47 enquiry notice / outcome -------------------------------------------------
    s(
        "m07-child-moving-receiving-authority-told",
        S47_MOVE,
        "s47",
        {},
        {
            EASTHOLT: e("share", "GR1", also=("C4",), obligations=("join_s47_strategy",)),
        },
    ),
    s(
        "m07-school-gets-notice-without-mappa-details",
        f"{S47_MOVE}; CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 3",
        "s47",
        {
            "recipients": [
                {"agency_id": "csc-eastholt", "role": "team_manager", "need_to_know": "transfer_case"},
                SCHOOL_R,
            ]
        },
        {
            EASTHOLT: e("share", "GR1", obligations=("join_s47_strategy",)),
            SCHOOL: e("share_minimised", "C3", withheld=["new_address", "relevant_adults", "risk_assessment"]),
        },
    ),
    s(
        "m07-outcome-to-police-on-completion-day",
        f"{S47_MOVE}: outcome given verbally on the day the enquiries are complete, in writing as soon as possible",
        "s47",
        {
            "payload": {"stage": "outcome", "outcome": "Fictional: threshold met; initial conference to be convened."},
            "risk": LIKELY,
            "recipients": [POLICE],
        },
        {POL: e("share", "GR1", also=("C7",))},
    ),
    s(
        "m07-only-social-care-sends-enquiry-notices",
        S47_MOVE,
        "s47",
        {
            "sender": {"agency_id": "school-oakfield-primary", "role": "dsl"},
            "recipients": [POLICE],
        },
        {POL: e("no_share", "C1", withheld=ALL)},
    ),
    # --- M08 child protection conference invitation / report --------------------------------------
    s(
        "m08-invitation-to-school-and-gp",
        CONFERENCE,
        "conference",
        {},
        {
            SCHOOL: e("share_minimised", "C3", withheld=["family_language"], obligations=("send_conference_report",)),
            GP: e("share_minimised", "C3", withheld=["family_language"], obligations=("send_conference_report",)),
        },
    ),
    s(
        "m08-gp-report-goes-to-conference-not-police",
        CONFERENCE,
        "conference",
        {
            "sender": {"agency_id": "gp-willow-lane", "role": "gp"},
            "payload": {"stage": "report", "agency_report": "Fictional: missed immunisations; two ED attendances."},
            "recipients": [
                {"agency_id": "csc-fenmere-mash", "role": "team_manager", "need_to_know": "attend_meeting"},
                POLICE,
            ],
        },
        {TM: e("share", "GR1"), POL: e("no_share", "C4", withheld=ALL)},
    ),
    s(
        "m08-forced-marriage-whereabouts-not-to-family-facing",
        FORCED_MARRIAGE,
        "conference",
        {
            "concern_tags": ["forced_marriage"],
            "risk": LIKELY,
            "payload": {"child_whereabouts": "Fictional: refuge placement"},
            "recipients": [
                {
                    "agency_id": "school-oakfield-primary",
                    "role": "dsl",
                    "need_to_know": "attend_meeting",
                    "conveys_to_family": True,
                },
                POLICE,
            ],
        },
        {
            SCHOOL: e("no_share", "GR5", withheld=ALL, also=("I19",)),
            POL: e("share", "GR1", obligations=("send_conference_report",)),
        },
    ),
    # --- M09 assessment outcome -------------------------------------------------------------------
    s(
        "m09-referrer-gets-outcome-not-analysis",
        ASSESSMENT,
        "assessment",
        {},
        {
            SCHOOL: e("share_minimised", "C3", withheld=["analysis", "child_views", "health_needs"]),
        },
    ),
    s(
        "m09-family-agreed-full-copy",
        ASSESSMENT,
        "assessment",
        CONSENTED_TOLD,
        {SCHOOL: e("share", "GR1", also=("GR4",))},
    ),
    s(
        "m09-only-social-care-sends-outcomes",
        ASSESSMENT,
        "assessment",
        {
            "sender": {"agency_id": "school-oakfield-primary", "role": "dsl"},
        },
        {SCHOOL: e("no_share", "C1", withheld=ALL)},
    ),
    s(
        "m09-hostile-family-copy-needs-a-plan",
        "CPSCP-Procedures, Hostile parents > 5.1 Multi-agency meetings: agree what is shared with a hostile family",
        "assessment",
        {
            "concern_tags": ["hostile_family"],
            "risk": LIKELY,
            "recipients": [
                {
                    "agency_id": "school-oakfield-primary",
                    "role": "dsl",
                    "need_to_know": "feedback_to_referrer",
                    "conveys_to_family": True,
                }
            ],
        },
        {SCHOOL: e("needs_advice", "GR3")},
    ),
    # --- M10 plan review notice -------------------------------------------------------------------
    s(
        "m10-cin-review-notice-starts-review-clock",
        PLAN_REVIEWS,
        "plan_review",
        {},
        {
            SCHOOL: e(
                "share_minimised", "C3", withheld=["family_views", "progress"], obligations=("next_plan_review",)
            ),
        },
    ),
    s(
        "m10-early-help-review-outside-consent",
        "CPCH-Policy, 7. Assessment and Planning: early help plans reviewed at least every 3 months; CPSCP-Procedures, "
        "Threshold policy > Early Help Assessments: shared with consent",
        "plan_review",
        {
            "lawful_basis": "consent",
            "payload": {"plan_kind": "early_help_plan"},
            "consent": consent_given(scope_agencies=["school-oakfield-primary"]),
            "parental_position": TOLD,
            "recipients": [
                {"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "coordinate_plan"},
                {"agency_id": "housing-brookside", "role": "housing_officer", "need_to_know": "coordinate_plan"},
            ],
        },
        {
            SCHOOL: e("share", "GR1", also=("GR4",), obligations=("next_plan_review",)),
            HOUSING_KEY: e("no_share", "GR4", withheld=ALL, also=("C7",)),
        },
    ),
    s(
        "m10-cp-plan-review-has-no-seed-interval",
        "CPCH-Policy, 7. Assessment and Planning: the review intervals the documents give are for CIN, CPCH, early "
        "help and safety plans only",
        "plan_review",
        {"payload": {"plan_kind": "cp_plan"}, "risk": LIKELY},
        {SCHOOL: e("share", "GR1", also=("C7",))},
    ),
    # --- M27 pre-birth concern / neonatal pre-discharge --------------------------------------------
    s(
        "m27-midwife-refers-with-consent",
        PREBIRTH,
        "prebirth",
        {},
        {
            MASH: e("share", "GR1", also=("GR4", "GR2"), obligations=(*REFERRAL_CLOCKS, "prebirth_assessment")),
        },
    ),
    s(
        "m27-mother-refuses-no-recorded-risk",
        "CPSCP-Procedures, Responding to concerns about a child > Consulting parents: parent refuses: seek advice",
        "prebirth",
        REFUSED,
        {MASH: e("hold_for_authorisation", "GR4")},
    ),
    s(
        "m27-mother-refuses-baby-likely-harmed",
        "CPSCP-Procedures, Responding to risks of harm to an unborn child: concerns addressed as early as possible "
        "before the birth",
        "prebirth",
        {**REFUSED, "lawful_basis": "safeguarding_children_individuals_at_risk", "risk": LIKELY},
        {
            MASH: e(
                "share_urgent_review_after",
                "C7",
                obligations=(*REFERRAL_CLOCKS, "prebirth_assessment", "review_urgent_share"),
            )
        },
    ),
    s(
        "m27-predischarge-notice-without-the-baby",
        f"{PREBIRTH}: the assessment is updated for events after delivery",
        "prebirth",
        {"payload": {"stage": "neonatal_predischarge"}},
        {MASH: e("hold_for_authorisation", "GR6")},
    ),
    # --- M28 case closure notice -------------------------------------------------------------------
    s(
        "m28-mental-health-trust-closes-with-consent",
        CLOSURE,
        "closure",
        CONSENTED_TOLD,
        {
            MASH: e("share", "GR1", also=("GR4",), obligations=("consider_closure_implications",)),
        },
    ),
    s(
        "m28-housing-gets-no-treatment-details",
        CLOSURE,
        "closure",
        {**CONSENTED_TOLD, "recipients": [HOUSING, SCHOOL_R]},
        {
            HOUSING_KEY: e("share_minimised", "C3", withheld=["treatment_summary"]),
            SCHOOL: e("share", "GR1"),
        },
    ),
    s(
        "m28-health-closure-without-consent-asks-first",
        HEALTH_THRESHOLD,
        "closure",
        {},
        {MASH: e("needs_advice", "GR3")},
    ),
    s(
        "m28-only-adult-services-send-closures",
        CLOSURE,
        "closure",
        {"sender": {"agency_id": "school-oakfield-primary", "role": "dsl"}},
        {
            MASH: e("no_share", "C1", withheld=ALL),
        },
    ),
    # --- M30 dog injury referral / prohibited dog report ---------------------------------------------
    s(
        "m30-toddler-bitten-referred-to-csc",
        f"{DOGS}; CPSCP-Procedures, Dangerous dogs > Practitioner Guidance",
        "dog",
        {"risk": LIKELY},
        {
            MASH: e("share", "GR1", also=("C7",), obligations=REFERRAL_CLOCKS),
        },
    ),
    s(
        "m30-injury-referral-not-copied-to-police",
        DOGS,
        "dog",
        {"risk": LIKELY, "recipients": [CSC, POLICE]},
        {
            MASH: e("share", "GR1"),
            POL: e("no_share", "C4", withheld=ALL),
        },
    ),
    s(
        "m30-prohibited-dog-to-police-immediately",
        f"{DOGS}: a prohibited dog is reported to the police immediately",
        "dog",
        {
            "purpose": "crime_investigation",
            "lawful_basis": "crime_prevention_s115_cda1998",
            "payload": {"stage": "prohibited_dog", "child": None, "injury": None},
            "recipients": [POLICE],
        },
        {POL: e("share", "GR1", obligations=("act_on_prohibited_dog",))},
    ),
    s("m30-no-risk-recorded-health-threshold", HEALTH_THRESHOLD, "dog", {}, {MASH: e("needs_advice", "GR3")}),
    # --- M33 professional disagreement escalation ----------------------------------------------------
    s(
        "m33-no-decision-after-three-days-to-manager",
        ESCALATE,
        "escalation",
        {},
        {
            TM: e("share", "GR1", also=("C4",), obligations=("answer_escalation",)),
        },
    ),
    s(
        "m33-not-to-a-social-workers-queue",
        ESCALATE,
        "escalation",
        {
            "recipients": [
                {"agency_id": "csc-fenmere-mash", "role": "social_worker", "need_to_know": "assess_and_decide"}
            ],
        },
        {SW: e("no_share", "C4", withheld=ALL)},
    ),
    s(
        "m33-disputed-decision-to-mash-not-police",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Outcome of Referrals: "
        "a dissatisfied referrer uses the escalation procedure",
        "escalation",
        {"payload": {"ground": "disagrees_with_decision"}, "recipients": [CSC, POLICE]},
        {MASH: e("share", "GR1", obligations=("answer_escalation",)), POL: e("no_share", "C4", withheld=ALL)},
    ),
    # --- M34 serious suicide attempt / death ------------------------------------------------------------
    s(
        "m34-attempt-school-told-with-risk-to-peers",
        SUICIDE,
        "suicide",
        {"risk": {"risk_to_others": True}},
        {
            HOLLINS: e("share", "GR1", obligations=("attend_multi_agency_discussion",)),
        },
    ),
    s(
        "m34-attempt-no-risk-health-history-withheld",
        SUICIDE,
        "suicide",
        {},
        {
            HOLLINS: e(
                "share_minimised",
                "C3",
                withheld=["mental_health_history", "risks_to_others"],
                obligations=("attend_multi_agency_discussion",),
            ),
        },
    ),
    s(
        "m34-death-meeting-led-by-health",
        SUICIDE,
        "suicide",
        {
            "risk": {"risk_to_others": True},
            "sender": {"agency_id": "gp-willow-lane", "role": "gp"},
            "payload": {"stage": "death"},
            "purpose": "child_death_review",
            "recipients": [
                {"agency_id": "school-hollins-academy", "role": "dsl", "need_to_know": "provide_support"},
                {"agency_id": "cdop-fenmere", "role": "cdop_manager", "need_to_know": "statutory_notification"},
            ],
        },
        {
            HOLLINS: e("share", "GR1", obligations=("cdr_information_sharing_meeting",)),
            CDOP: e("share", "GR1", obligations=("cdr_information_sharing_meeting",)),
        },
    ),
    s(
        "m34-death-notice-not-from-social-care",
        f"{SUICIDE}: the lead agency for this meeting is health",
        "suicide",
        {
            "payload": {"stage": "death"},
            "purpose": "child_death_review",
        },
        {HOLLINS: e("no_share", "C1", withheld=ALL)},
    ),
    s(
        "m34-meeting-record-starts-four-week-review",
        f"{SUICIDE}: arranging a date for review of provision",
        "suicide",
        {
            "payload": {
                "stage": "meeting_record",
                "actions_agreed": "Fictional: pastoral lead is the liaison; review in 4 weeks.",
            }
        },
        {
            HOLLINS: e(
                "share_minimised",
                "C3",
                withheld=["mental_health_history", "risks_to_others"],
                obligations=("review_suicide_response",),
            )
        },
    ),
    # --- M32 the adviser's answer ---------------------------------------------------------------------
    s(
        "m32-adviser-answers-the-practitioner",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 3: seek advice "
        "without disclosing the identity of the individual",
        "advice_answer",
        {},
        {GP: e("share", "GR1", also=("C2",))},
    ),
]
