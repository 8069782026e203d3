"""Scenarios for the casework types (M26 early help, M24 discharge hold, M23 Osman warning, M12
transition to adult services): a share, a withhold and an edge from the source documents for each.
Appended to `SCENARIOS` of tests/policy/scenarios.py, whose helpers they use.
"""

from __future__ import annotations

from typing import Any

from tests.policy.bases import CSC, POLICE, consent_given, consent_refused, not_sought
from tests.policy.bases_casework import ASC_TRANSITIONS, HEALTH_VISITING
from tests.policy.scenarios import (
    ALL,
    IMMEDIATE,
    LIKELY,
    MASH,
    NOT_TOLD_E1,
    POL,
    SOCIAL_WORKER_FAMILY,
    TOLD,
    e,
    s,
)

HV = "health-visiting-fenmere/health_visitor"
HOUSING = {"agency_id": "housing-brookside", "role": "housing_officer", "need_to_know": "provide_support"}
HOLLINS = {"agency_id": "school-hollins-academy", "role": "dsl", "need_to_know": "protect_child"}
PROBATION = {"agency_id": "probation-fenmere", "role": "probation_officer", "need_to_know": "protect_child"}
EASTHOLT_MASH = "csc-eastholt/mash_intake"
ASC_TW = "asc-fenmere/transitions_worker"
EHA = (
    "CPSCP-Procedures, Threshold policy > Early Help Assessments: shared with other professionals where there is "
    "consent"
)
DISCHARGE = (
    "CPSCP-Procedures, Responding to concerns about a child > Seeking urgent medical attention: not discharged until "
    "both CSCs are told and a strategy meeting held"
)
OSMAN = "CPSCP-Procedures, Gangs > 4. Protection and Action to be Taken: automatic referral to CSC"
TRANSITION = (
    "DDSCP-RiskToOthers, 7. Transition of Young People, who are seen to pose Sexual Risk to others, to Adult "
    "Services: refer at least 6 months before 18"
)
EHA_DUTIES = ("review_early_help_plan", "inform_subject")
FM_CHILD = {"subject_ref": "subj-1", "role_in_case": "child", "age_years": 15, "gillick_competent": "yes"}
# The family's consent (as the base has it) and the young person's own.
FM_CONSENTS = [
    *consent_given(scope_agencies=["health-visiting-fenmere", "vcs-riverside-juniors-fc"]),
    *consent_given(giver="child", scope_agencies=["health-visiting-fenmere"]),
]
NO_PRIVACY_NOTICE = [
    {"subject_ref": "subj-1", "giver": "parent_pr", "status": "given_explicit", "privacy_notice_given": False}
]
# Consent whose record does not say whether the privacy notice was given (the field left out).
PRIVACY_NOTICE_UNSTATED = [{"subject_ref": "subj-1", "giver": "parent_pr", "status": "given_explicit"}]

SCA = {"agency_id": "sca-home-office", "role": "nrm_decision_maker", "need_to_know": "statutory_notification"}
SCA_KEY = "sca-home-office/nrm_decision_maker"
NRM = (
    "CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Referring a Potential "
    "Victim of Modern Slavery to the National Referral Mechanism (NRM): consent not required for children"
)
PREVENT = (
    "CPSCP-Procedures, Violent extremism > 3. Referral and Intervention Processes: telling parents may increase the "
    "risk"
)
E10 = "disclosure_increases_risk_radicalisation"
NOT_TOLD_E10 = {"parents_informed": False, "parent_withheld_permission": None, "reason_not_informed": E10}
CLUB = {"agency_id": "vcs-riverside-juniors-fc", "role": "safeguarding_lead", "need_to_know": "provide_support"}

MAPPA = (
    "CPSCP-Procedures, Identification of Individuals who Pose a Risk to Children > 3.1 MAPPA (Multi Agency Public "
    "Protection Arrangements): other risks passed to children's social care"
)
POLICE_PROTECTION = (
    "CPSCPB-CSA-Strategy, Section Two > Agency and professional responsibilities > Responsibility of Police: EDT "
    "out of hours"
)
EDT = "csc-fenmere-mash/edt"
SCHOOL_DSL_KEY = "school-oakfield-primary/dsl"
OAKFIELD = {"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "protect_child"}

CASEWORK_SCENARIOS: list[dict[str, Any]] = [
    # --- M26 early help assessment share ------------------------------------------------------
    s(
        "m26-eha-to-health-visitor-family-agreed",
        EHA,
        "eha",
        {},
        {HV: e("share", "GR1", also=("GR4",), obligations=EHA_DUTIES)},
    ),
    s(
        "m26-eha-consent-scope-excludes-housing",
        "CPSCP-Procedures, Policy for the Education of Children with a Parent or Close Relative in Prison or at Risk "
        "of a Custodial Sentence > Appendix 3 > Who can help?: the family states which agencies may receive it",
        "eha",
        {"recipients": [HEALTH_VISITING, HOUSING]},
        {HV: e("share", "GR1"), "housing-brookside/housing_officer": e("no_share", "GR4", withheld=ALL)},
    ),
    s(
        "m26-eha-family-refuses",
        "CPSCP-Procedures, Threshold policy > Parental Consent: consent always needed to request services",
        "eha",
        {"consent": consent_refused()},
        {HV: e("no_share", "GR4", withheld=ALL)},
    ),
    s(
        "m26-eha-without-privacy-notice",
        "CPSCPB-CSA-Strategy, Section Two > Early help assessment > Parental Consent: the EHA privacy notice",
        "eha",
        {"consent": NO_PRIVACY_NOTICE},
        {HV: e("hold_for_authorisation", "C8")},
    ),
    s(
        "m26-eha-privacy-notice-not-recorded",
        "CPSCPB-CSA-Strategy, Section Two > Early help assessment > Parental Consent: the EHA privacy notice; "
        "unstated is not given (missing input denies)",
        "eha",
        {"consent": PRIVACY_NOTICE_UNSTATED},
        {HV: e("hold_for_authorisation", "C8")},
    ),
    s(
        "m26-eha-forced-marriage-parents-consent-only",
        "CPSCP-Procedures, Forced marriage > 6. Issues: do not share outside child protection information-sharing "
        "protocols without the express consent of the child",
        "eha",
        {"concern_tags": ["forced_marriage"], "subjects": [FM_CHILD]},
        {HV: e("hold_for_authorisation", "I19")},
    ),
    s(
        "m26-eha-forced-marriage-young-persons-consent",
        "CPSCP-Procedures, Forced marriage > 6. Issues: with the young person's express consent; they, not the "
        "family, are told",
        "eha",
        {"concern_tags": ["forced_marriage"], "subjects": [FM_CHILD], "consent": FM_CONSENTS},
        {HV: e("share", "GR1", also=("GR4",), obligations=EHA_DUTIES)},
    ),
    # --- M24 hospital discharge hold ------------------------------------------------------------
    s(
        "m24-hospital-tells-both-cscs",
        DISCHARGE,
        "discharge",
        {},
        {
            MASH: e("share", "GR1", also=("C4",), obligations=("strategy_before_discharge",)),
            EASTHOLT_MASH: e("share", "GR1", obligations=("strategy_before_discharge",)),
        },
    ),
    s(
        "m24-parents-object-discharge-still-held",
        DISCHARGE,
        "discharge",
        {"consent": consent_refused(), "recipients": [CSC]},
        {MASH: e("share", "GR1", also=("GR3",), obligations=("strategy_before_discharge",))},
    ),
    s(
        "m24-sent-by-gp-not-hospital",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 1: the right sender",
        "discharge",
        {"sender": {"agency_id": "gp-willow-lane", "role": "gp"}, "recipients": [CSC]},
        {MASH: e("no_share", "C1", withheld=ALL)},
    ),
    s(
        "m24-copied-to-police",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 4: strict need to know",
        "discharge",
        {"recipients": [CSC, POLICE]},
        {MASH: e("share", "GR1"), POL: e("no_share", "C4", withheld=ALL)},
    ),
    # --- M23 Osman warning referral -------------------------------------------------------------
    s(
        "m23-osman-automatic-referral",
        OSMAN,
        "osman",
        {},
        {MASH: e("share", "GR1", obligations=("strategy_discussion_now",))},
    ),
    s(
        "m23-osman-copied-to-school",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 4: strict need to know",
        "osman",
        {"recipients": [CSC, HOLLINS]},
        {MASH: e("share", "GR1"), "school-hollins-academy/dsl": e("no_share", "C4", withheld=ALL)},
    ),
    s(
        "m23-osman-social-worker-working-with-family",
        "CPSCP-Procedures, Gangs > 4. Protection and Action to be Taken: consider risks to family and other children",
        "osman",
        {"recipients": [SOCIAL_WORKER_FAMILY]},
        {
            "csc-fenmere-mash/social_worker": e(
                "share_minimised", "GR5", withheld=["child_location", "gang_context", "threat_summary"]
            )
        },
    ),
    s(
        "m23-osman-immediate-threat",
        OSMAN,
        "osman",
        {"risk": IMMEDIATE},
        {MASH: e("share_urgent_review_after", "I14", obligations=("strategy_discussion_now", "review_urgent_share"))},
    ),
    # --- M12 transition to adult services -------------------------------------------------------
    s(
        "m12-transition-referral-agreed",
        TRANSITION,
        "transition",
        {},
        {ASC_TW: e("share", "GR1", also=("GR4",), obligations=("join_transition_review", "inform_subject"))},
    ),
    s(
        "m12-young-person-refuses",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 4: refused "
        "consent without an exception needs advice",
        "transition",
        {"consent": consent_refused(), "lawful_basis": "safeguarding_children_individuals_at_risk"},
        {ASC_TW: e("needs_advice", "GR4", withheld=["care_and_support_needs"], also=("C7",))},
    ),
    s(
        "m12-copied-to-probation",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 4: strict need to know",
        "transition",
        {"recipients": [ASC_TRANSITIONS, PROBATION]},
        {ASC_TW: e("share", "GR1"), "probation-fenmere/probation_officer": e("no_share", "C4", withheld=ALL)},
    ),
    # --- M21 National Referral Mechanism -------------------------------------------------------
    s(
        "m21-nrm-to-sca-without-placement",
        NRM,
        "nrm",
        {},
        {SCA_KEY: e("share_minimised", "C3", withheld=["current_location"])},
    ),
    s(
        "m21-nrm-parents-refuse-police-told",
        NRM,
        "nrm",
        {"consent": consent_refused(), "recipients": [SCA, POLICE]},
        {
            SCA_KEY: e("share_minimised", "C3", withheld=["current_location"]),
            POL: e("share_minimised", "C3", withheld=["immigration_status"], obligations=("act_on_trafficking_risk",)),
        },
    ),
    s(
        "m21-nrm-from-school-not-first-responder",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 1: the right sender",
        "nrm",
        {"sender": {"agency_id": "school-oakfield-primary", "role": "dsl"}},
        {SCA_KEY: e("no_share", "C1", withheld=ALL)},
    ),
    # --- M22 radicalisation concern ----------------------------------------------------------------
    s(
        "m22-prevent-parents-not-told-e10",
        PREVENT,
        "prevent",
        {"consent": not_sought(E10), "parental_position": NOT_TOLD_E10, "recipients": [POLICE, CSC]},
        {
            POL: e("share", "GR1", also=("GR2",), obligations=("consider_multi_agency_assessment",)),
            MASH: e("share", "GR1"),
        },
    ),
    s(
        "m22-prevent-parents-position-missing",
        "CPSCP-Procedures, Responding to concerns about a child > Consulting parents: parental knowledge recorded",
        "prevent",
        {},
        {POL: e("hold_for_authorisation", "GR2")},
    ),
    s(
        "m22-prevent-imminent-violence",
        "CPSCP-Procedures, Violent extremism > 3. Referral and Intervention Processes: a violent act imminent is an "
        "emergency",
        "prevent",
        {
            "risk": IMMEDIATE,
            "consent": not_sought(E10),
            "parental_position": NOT_TOLD_E10,
            "recipients": [POLICE, CLUB],
        },
        {
            POL: e("share_urgent_review_after", "I14", obligations=("review_urgent_share",)),
            "vcs-riverside-juniors-fc/safeguarding_lead": e("no_share", "C4", withheld=ALL),
        },
    ),
    # --- M31 offender risk information ---------------------------------------------------------
    s(
        "m31-probation-mappa-level-2-to-csc",
        MAPPA,
        "offender",
        {},
        {MASH: e("share", "GR1", also=("C4",), obligations=("assess_adult_risk",))},
    ),
    s(
        "m31-copied-to-school",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 4: strict need to know",
        "offender",
        {"recipients": [CSC, OAKFIELD]},
        {MASH: e("share", "GR1"), SCHOOL_DSL_KEY: e("no_share", "C4", withheld=ALL)},
    ),
    s(
        "m31-sent-by-school",
        "CPSCP-Procedures, Identification of Individuals who Pose a Risk to Children > 2. Management of Individuals "
        "who Pose a Risk of Harm to Children: supervising agencies tell social care",
        "offender",
        {"sender": {"agency_id": "school-oakfield-primary", "role": "dsl"}},
        {MASH: e("no_share", "C1", withheld=ALL)},
    ),
    # --- M25 police emergency protection notice --------------------------------------------------
    s(
        "m25-police-protection-to-edt-out-of-hours",
        POLICE_PROTECTION,
        "protection",
        {},
        {EDT: e("share", "GR1", obligations=("respond_to_police_protection",))},
    ),
    s(
        "m25-immediate-risk",
        POLICE_PROTECTION,
        "protection",
        {"risk": IMMEDIATE},
        {
            EDT: e(
                "share_urgent_review_after", "I14", obligations=("respond_to_police_protection", "review_urgent_share")
            )
        },
    ),
    s(
        "m25-social-worker-with-family-no-location",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 5: safety",
        "protection",
        {"recipients": [SOCIAL_WORKER_FAMILY]},
        {"csc-fenmere-mash/social_worker": e("share_minimised", "GR5", withheld=["child_location"])},
    ),
    s(
        "m25-copied-to-housing",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 4: strict need to know",
        "protection",
        {"recipients": [HOUSING]},
        {"housing-brookside/housing_officer": e("no_share", "C4", withheld=ALL)},
    ),
    # --- sg-policy-0.7.9: what neither urgency nor the duty to share overrides ------------------
    s(
        "m01-request-for-services-refused-likely-harm",
        "CPSCP-Procedures, Threshold policy > Parental Consent: consent always needed to request services",
        "referral",
        {"purpose": "request_for_services", "consent": consent_refused(), "parental_position": TOLD, "risk": LIKELY},
        {MASH: e("no_share", "GR4", withheld=ALL, also=("C7",))},
    ),
    s(
        "m01-request-for-services-refused-immediate",
        "CPSCP-Procedures, Threshold policy > Parental Consent: consent always needed to request services",
        "referral",
        {"purpose": "request_for_services", "consent": consent_refused(), "parental_position": TOLD, "risk": IMMEDIATE},
        {MASH: e("no_share", "GR4", withheld=ALL, also=("I14",))},
    ),
    s(
        "m26-eha-refused-adult-at-risk-to-asc",
        EHA,
        "eha",
        {
            "consent": consent_refused(),
            "risk": {"serious_harm_to_adult": True},
            "recipients": [
                {"agency_id": "asc-fenmere", "role": "adult_safeguarding_officer", "need_to_know": "provide_support"}
            ],
        },
        {"asc-fenmere/adult_safeguarding_officer": e("no_share", "GR4", withheld=ALL, also=("C7",))},
    ),
    s(
        "m01-honour-based-violence-immediate-family-facing",
        "CPSCP-Procedures, Forced marriage > 6. Issues: never inform the family; CPSCP-Procedures, Responding to "
        "concerns about a child > Responsibilities of agencies and organisations: a referral must not be delayed",
        "referral",
        {
            "risk": IMMEDIATE,
            "concern_tags": ["honour_based_violence"],
            "consent": not_sought("risk_significant_harm"),
            "parental_position": NOT_TOLD_E1,
            "recipients": [SOCIAL_WORKER_FAMILY],
        },
        # Sent now to children's social care, without what could endanger her (sg-policy-0.7.12).
        {
            "csc-fenmere-mash/social_worker": e(
                "share_urgent_review_after", "I14", withheld=["current_location"], also=("GR5",)
            )
        },
    ),
    s(
        "m01-coroner-permission-whole-notification-immediate",
        "CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist: only at the Coroner's discretion",
        "referral",
        {"risk": IMMEDIATE, "restrictions": {"coroner_permission_required": True}},
        {MASH: e("no_share", "C6", withheld=ALL, also=("I14",))},
    ),
    s(
        "m27-closure-health-withheld-from-housing-no-doubt",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 3: advice",
        "closure",
        {"recipients": [HOUSING]},
        {
            "housing-brookside/housing_officer": e(
                "share_minimised", "C3", withheld=["treatment_summary"], also=("GR3",)
            )
        },
    ),
]
