"""The scenario suite: realistic notifications drawn from the source documents, with the expected decision.

Each scenario names a base notification (tests/policy/bases.py), a patch, and per recipient
("agency_id/role") the expected outcome, the exact allowed fields, and rule ids that must appear
in the reasons. Sources are cited as `KEY, Chapter > Section` with the keys of policies/SOURCES.md.
"""

from __future__ import annotations

from typing import Any

from tests.policy.bases import CSC, DELETE, POLICE, consent_given, consent_refused, not_sought

MASH = "csc-fenmere-mash/mash_intake"
POL = "police-fenmere/police_public_protection"
ALL_M01 = ["child", "concern_summary", "current_location", "home_address", "referrer"]
TOLD = {"parents_informed": True, "parent_withheld_permission": False}
NOT_TOLD_E1 = {
    "parents_informed": False,
    "parent_withheld_permission": None,
    "reason_not_informed": "risk_significant_harm",
}
LIKELY = {"likely_significant_harm": True}
IMMEDIATE = {"immediate_significant_harm": True, "likely_significant_harm": True}
LINE_MANAGER = {
    "authoriser_role": "line_manager",
    "authoriser_ref": "mgr-01",
    "authorised_at": "2026-03-02T10:05:00Z",
    "reason": "Fictional: reviewed, sharing justified.",
}
SOCIAL_WORKER_FAMILY = {**CSC, "role": "social_worker", "need_to_know": "protect_child", "conveys_to_family": True}


def s(sid: str, source: str, base: str, patch: dict[str, Any], expect: dict[str, Any]) -> dict[str, Any]:
    return {"id": sid, "source": source, "base": base, "patch": patch, "expect": expect}


def e(
    outcome: str, allowed: list[str], rules: tuple[str, ...] = (), obligations: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "allowed_fields": sorted(allowed),
        "rules": list(rules),
        "obligations": list(obligations),
    }


CONSENTED = {"lawful_basis": "consent", "consent": consent_given(), "parental_position": TOLD}

SCENARIOS: list[dict[str, Any]] = [
    # --- M01 safeguarding referrals -------------------------------------------------------
    s(
        "m01-school-bruising-immediate",
        "CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies and organisations: "
        "urgent referral must not be delayed",
        "referral",
        {
            "risk": IMMEDIATE,
            "consent": not_sought("risk_significant_harm"),
            "parental_position": NOT_TOLD_E1,
            "recipients": [CSC, POLICE],
            "concern_tags": ["physical_abuse"],
        },
        {
            MASH: e(
                "share_urgent_review_after",
                ALL_M01,
                ("I14", "GR2", "GR4", "GR7"),
                ("review_urgent_share", "acknowledge_referral", "decide_referral"),
            ),
            POL: e("share_urgent_review_after", ALL_M01, ("I14", "C7"), ("review_urgent_share",)),
        },
    ),
    s(
        "m01-school-neglect-consent",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 4: share with "
        "consent where possible",
        "referral",
        {**CONSENTED, "concern_tags": ["neglect"]},
        {MASH: e("share", ALL_M01, ("GR4", "GR2", "C8", "C3", "GR1"), ("acknowledge_referral",))},
    ),
    s(
        "m01-health-visitor-refused-no-risk",
        "CPSCP-Procedures, Responding to concerns about a child > Consulting parents: parent refuses: seek advice "
        "from a manager",
        "referral",
        {
            "sender": {"agency_id": "health-visiting-fenmere", "role": "health_visitor"},
            "consent": consent_refused(),
            "parental_position": {"parents_informed": True, "parent_withheld_permission": True},
        },
        {MASH: e("needs_advice", ALL_M01, ("GR4", "C7"))},
    ),
    s(
        "m01-health-visitor-refused-manager-agrees",
        "CPSCP-Procedures, Responding to concerns about a child > Consulting parents: outcome of advice fully recorded",
        "referral",
        {
            "sender": {"agency_id": "health-visiting-fenmere", "role": "health_visitor"},
            "consent": consent_refused(),
            "parental_position": {"parents_informed": True, "parent_withheld_permission": True},
            "authorisation": LINE_MANAGER,
        },
        {MASH: e("share", ALL_M01, ("GR4",), ("acknowledge_referral",))},
    ),
    s(
        "m01-early-help-request-refused",
        "CPSCP-Procedures, Threshold policy > Parental Consent: consent always needed to request services",
        "referral",
        {"purpose": "request_for_services", "consent": consent_refused(), "parental_position": TOLD},
        {MASH: e("no_share", [], ("GR4", "C7", "GR7"))},
    ),
    s(
        "m01-early-help-request-consented",
        "CPSCP-Procedures, Threshold policy > Parental Consent; CPSCPB-CSA-Strategy, Section Two > Early help "
        "assessment > Parental Consent: EHA privacy notice",
        "referral",
        {**CONSENTED, "purpose": "request_for_services"},
        {MASH: e("share", ALL_M01, ("GR4", "C8"))},
    ),
    s(
        "m01-early-help-request-not-asked",
        "CPSCP-Procedures, Threshold policy > Parental Consent",
        "referral",
        {
            "purpose": "request_for_services",
            "consent": not_sought("not_reasonable_to_obtain"),
            "parental_position": TOLD,
        },
        {MASH: e("hold_for_authorisation", ALL_M01, ("GR4",))},
    ),
    s(
        "m01-no-lawful-basis",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 4: be clear of "
        "the basis",
        "referral",
        {**CONSENTED, "lawful_basis": None},
        {MASH: e("hold_for_authorisation", ALL_M01, ("GR1",))},
    ),
    s(
        "m01-basis-unsure",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 3: seek advice "
        "from the IG lead",
        "referral",
        {**CONSENTED, "lawful_basis": "unsure"},
        {MASH: e("needs_advice", ALL_M01, ("GR1",))},
    ),
    s(
        "m01-no-purpose",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 1: justify the purpose",
        "referral",
        {**CONSENTED, "purpose": None},
        {MASH: e("hold_for_authorisation", ALL_M01, ("C1",))},
    ),
    s(
        "m01-wrong-purpose",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 1",
        "referral",
        {**CONSENTED, "purpose": "child_death_review"},
        {MASH: e("no_share", [], ("C1",))},
    ),
    s(
        "m01-copied-to-housing",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 4: strict need to know",
        "referral",
        {
            **CONSENTED,
            "recipients": [
                CSC,
                {"agency_id": "housing-brookside", "role": "housing_officer", "need_to_know": "provide_support"},
            ],
        },
        {MASH: e("share", ALL_M01, ("C4",)), "housing-brookside/housing_officer": e("no_share", [], ("C4",))},
    ),
    s(
        "m01-neighbour-concern-via-club",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Screening of Referrals "
        "by Children's Social Care: non-professional referrer identity protected",
        "referral",
        {
            "sender": {"agency_id": "vcs-riverside-juniors-fc", "role": "safeguarding_lead"},
            "risk": LIKELY,
            "consent": not_sought("risk_to_others_or_immediate_harm"),
            "parental_position": {**NOT_TOLD_E1, "reason_not_informed": "risk_to_others_or_immediate_harm"},
            "payload": {"public_referrer": "Pat Example, neighbour (fictional)"},
            "recipients": [CSC, POLICE],
        },
        {MASH: e("share", [*ALL_M01, "public_referrer"], ("GR5",)), POL: e("share_minimised", ALL_M01, ("I11",))},
    ),
    s(
        "m01-phone-referral",
        "CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer: phone referrals "
        "confirmed in writing in 24 h",
        "referral",
        {**CONSENTED, "initial_contact": "phone"},
        {MASH: e("share", ALL_M01, (), ("written_confirmation", "acknowledge_referral"))},
    ),
    s(
        "m01-forced-marriage",
        "CPSCP-Procedures, Forced marriage > 6. Issues: never inform the family",
        "referral",
        {
            "risk": LIKELY,
            "concern_tags": ["forced_marriage"],
            "consent": not_sought("risk_significant_harm"),
            "parental_position": NOT_TOLD_E1,
            "recipients": [CSC, POLICE, SOCIAL_WORKER_FAMILY],
        },
        {
            MASH: e("share", ALL_M01, ("GR5",)),
            POL: e("share", ALL_M01),
            "csc-fenmere-mash/social_worker": e("no_share", [], ("GR5", "I19")),
        },
    ),
    s(
        "m01-forced-marriage-immediate",
        "CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies and organisations; "
        "CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Part 2 - Child "
        "Victims of Trafficking and/or Modern Slavery > Assessment: location never to the family",
        "referral",
        {
            "risk": IMMEDIATE,
            "concern_tags": ["forced_marriage"],
            "consent": not_sought("risk_significant_harm"),
            "parental_position": NOT_TOLD_E1,
            "recipients": [SOCIAL_WORKER_FAMILY],
        },
        {
            "csc-fenmere-mash/social_worker": e(
                "share_urgent_review_after", ["child", "concern_summary", "home_address", "referrer"], ("I14", "GR5")
            )
        },
    ),
    s(
        "m01-da-police-will-speak-to-perpetrator",
        "IOW-DA-Perpetrators, Practice Principles for Engaging People Using Abusive Behaviours > 2. Safety as a "
        "Priority: engagement must not increase risk",
        "referral",
        {
            "risk": LIKELY,
            "concern_tags": ["domestic_abuse"],
            "consent": not_sought("prejudice_crime"),
            "parental_position": {**NOT_TOLD_E1, "reason_not_informed": "prejudice_crime"},
            "recipients": [{**POLICE, "conveys_to_alleged_perpetrator": True}],
        },
        {POL: e("needs_advice", ["child"], ("GR5",))},
    ),
    s(
        "m01-court-report-without-permission",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child in Need, Or Subject of Child and Family Assessment: court reports need permission",
        "referral",
        {**CONSENTED, "risk": LIKELY, "payload": {"court_reports": "Fictional s7 report extract."}},
        {MASH: e("no_share", [], ("C6",))},
    ),
    s(
        "m01-court-report-immediate",
        "CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies and organisations; "
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child in Need, Or Subject of Child and Family Assessment",
        "referral",
        {**CONSENTED, "risk": IMMEDIATE, "payload": {"court_reports": "Fictional s7 report extract."}},
        {MASH: e("share_urgent_review_after", ALL_M01, ("C6", "I14"))},
    ),
    s(
        "m01-court-report-with-permission",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child Subject of a Child Protection Plan",
        "referral",
        {
            **CONSENTED,
            "risk": LIKELY,
            "restrictions": {"court_permission_obtained": True},
            "payload": {"court_reports": "Fictional s7 report extract."},
        },
        {MASH: e("share", [*ALL_M01, "court_reports"], ("C6",))},
    ),
    s(
        "m01-under-13-sexual-activity",
        "DDSCP-RiskToOthers, 5. Sexual Abuse > Consent: CP referral in all cases",
        "referral",
        {
            "concern_tags": ["sexual_activity_under_13"],
            "consent": consent_refused(),
            "parental_position": TOLD,
            "subjects": [{"subject_ref": "subj-1", "role_in_case": "child", "age_years": 12}],
            "payload": {"sexual_abuse_details": "Fictional disclosure."},
        },
        {MASH: e("share_urgent_review_after", [*ALL_M01, "sexual_abuse_details"], ("I44", "C7"))},
    ),
    s(
        "m01-unregistered-recipient",
        "I06 (project invariant): verified endpoints only",
        "referral",
        {
            **CONSENTED,
            "recipients": [{"agency_id": "csc-elsewhere", "role": "mash_intake", "need_to_know": "assess_and_decide"}],
        },
        {"csc-elsewhere/mash_intake": e("no_share", [], ("SYS-AGENCY", "GR7"))},
    ),
    s(
        "m01-dsl-in-doubt",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing (the questions that "
        "follow them): not sure: seek advice",
        "referral",
        {**CONSENTED, "sender_in_doubt": True},
        {MASH: e("needs_advice", ALL_M01, ("GR3",))},
    ),
    s(
        "m01-location-missing",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral: establish the child's "
        "current location",
        "referral",
        {**CONSENTED, "payload": {"current_location": DELETE}},
        {MASH: e("hold_for_authorisation", ["child", "concern_summary", "home_address", "referrer"], ("GR6",))},
    ),
    s(
        "m01-no-privacy-notice",
        "CPSCPB-CSA-Strategy, Section Two > Early help assessment > Parental Consent: EHA privacy notice",
        "referral",
        {
            **CONSENTED,
            "consent": [
                {
                    "subject_ref": "subj-1",
                    "giver": "parent_pr",
                    "status": "given_explicit",
                    "privacy_notice_given": False,
                }
            ],
        },
        {MASH: e("hold_for_authorisation", ALL_M01, ("C8",))},
    ),
    s(
        "m01-parents-not-told-no-reason",
        "CPSCP-Procedures, Responding to concerns about a child > Consulting parents: decision recorded with reasons",
        "referral",
        {
            "consent": not_sought("risk_significant_harm"),
            "parental_position": {"parents_informed": False, "parent_withheld_permission": None},
        },
        {MASH: e("hold_for_authorisation", ALL_M01, ("GR2",))},
    ),
    s(
        "m01-unconvicted-adult-from-probation",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Information Sharing In Special Circumstances: Bichard, legal advice",
        "referral",
        {
            "sender": {"agency_id": "probation-fenmere", "role": "probation_officer"},
            "concern_tags": ["unconvicted_adult_risk"],
            "consent": not_sought("prejudice_crime"),
            "parental_position": {**NOT_TOLD_E1, "reason_not_informed": "prejudice_crime"},
        },
        {MASH: e("needs_advice", ALL_M01, ("GR3", "I26"))},
    ),
    s(
        "m01-gp-health-detail-to-police-no-risk",
        "CPSCP-Procedures, Information sharing > Confidentiality and Consent: health information: higher threshold",
        "referral",
        {
            "sender": {"agency_id": "gp-willow-lane", "role": "gp"},
            "consent": not_sought("prejudice_crime"),
            "parental_position": {**NOT_TOLD_E1, "reason_not_informed": "prejudice_crime"},
            "recipients": [POLICE],
            "payload": {"child_condition": "Fictional: healed fractures on x-ray."},
        },
        {POL: e("needs_advice", ALL_M01, ("GR3",))},
    ),
    s(
        "m01-hostile-family",
        "CPSCP-Procedures, Hostile parents > 5.1 Multi-agency meetings: plan what to share with a hostile family",
        "referral",
        {**CONSENTED, "concern_tags": ["hostile_family"], "recipients": [SOCIAL_WORKER_FAMILY]},
        {
            "csc-fenmere-mash/social_worker": e(
                "needs_advice", ["child", "concern_summary", "home_address", "referrer"], ("GR3",)
            )
        },
    ),
]

SCHOOL_DSL = "school-oakfield-primary/dsl"
STATUTORY = {"consent": [], "parental_position": None}
PREJUDICE = not_sought("prejudice_crime")
ASC = {"agency_id": "asc-fenmere", "role": "adult_safeguarding_officer", "need_to_know": "attend_meeting"}
SCHOOL = {"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "attend_meeting"}
STRATEGY_ALL = ["child", "child_location", "concern_summary", "health_information", "meeting_at", "strategy_kind"]
ADULT_ALL = ["abuse_or_neglect", "address", "adult", "care_and_support_needs", "unable_to_protect_self"]
LADO = "lado-fenmere/lado_officer"
LADO_ALL = ["allegation_account", "child", "dsm_record_signed", "job_and_setting", "person_subject_of_allegation"]
EASTHOLT = "csc-eastholt/team_manager"
TRANSFER_ALL = ["assessments", "child", "cp_plan", "legal_status", "move_date", "new_address", "transfer_type"]
CDOP = "cdop-fenmere/cdop_manager"
DEATH_ALL = ["child", "circumstances", "death_type", "died_at", "medical_history", "suspected_deliberate_harm"]
MISSING_ALL = [
    "age_band",
    "child",
    "last_known_location",
    "looked_after",
    "missing_since",
    "physical_description",
    "risk_factors",
]
DVDS_ALL = ["disclosure_decision", "person_at_risk", "relevant_convictions", "route", "stage", "subject_person"]

SCENARIOS += [
    # --- M02 / M03 acknowledgement and outcome ------------------------------------------------
    s(
        "m02-acknowledgement",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral: acknowledge within 1 "
        "working day",
        "acknowledgement",
        {},
        {SCHOOL_DSL: e("share", ["child", "next_steps", "received_at", "referral_reference"], ("C1", "C4"))},
    ),
    s(
        "m02-acknowledgement-from-school",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral: CSC acknowledges",
        "acknowledgement",
        {"sender": {"agency_id": "school-hollins-academy", "role": "dsl"}},
        {SCHOOL_DSL: e("no_share", [], ("C1",))},
    ),
    s(
        "m03-outcome-not-signed-off",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Outcome of Referrals: "
        "a manager signs and approves the outcome",
        "outcome",
        {},
        {SCHOOL_DSL: e("hold_for_authorisation", ["actions", "child", "outcome", "referral_reference"], ("GR6",))},
    ),
    s(
        "m03-outcome-signed-off",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Outcome of Referrals; "
        "CPSCP-Procedures, Threshold policy > Childrens Social Care: referrer told the outcome",
        "outcome",
        {"authorisation": {**LINE_MANAGER, "authoriser_role": "csc_manager"}},
        {SCHOOL_DSL: e("share_minimised", ["actions", "child", "outcome", "referral_reference"], ("GR6", "C3"))},
    ),
    # --- M06 strategy discussion ------------------------------------------------------------------
    s(
        "m06-cpch-strategy-with-adult-care",
        "CPCH-Policy, 6. Strategy Meeting/Safeguarding Enquiries: CPCH strategy within 2 WD with adult care",
        "strategy",
        {
            "payload": {"strategy_kind": "cpch"},
            "risk": LIKELY,
            "consent": PREJUDICE,
            "authorisation": LINE_MANAGER,
            "concern_tags": ["cpch"],
            "recipients": [POLICE, ASC],
        },
        {
            POL: e("share", STRATEGY_ALL, ("GR4",), ("strategy_meeting",)),
            "asc-fenmere/adult_safeguarding_officer": e("share", STRATEGY_ALL, ("C4",), ("strategy_meeting",)),
        },
    ),
    s(
        "m06-no-line-manager",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Screening of Referrals "
        "by Children's Social Care: line manager authorises discussion without parental knowledge",
        "strategy",
        {"consent": PREJUDICE},
        {
            POL: e(
                "hold_for_authorisation",
                ["child", "child_location", "concern_summary", "meeting_at", "strategy_kind"],
                ("GR4", "C3"),
            )
        },
    ),
    s(
        "m06-child-on-child-school",
        "DDSCP-RiskToOthers, 4. Children's Social Care Response: strategy meeting within 5 days; minimum necessary",
        "strategy",
        {
            "payload": {"strategy_kind": "child_on_child"},
            "consent": PREJUDICE,
            "authorisation": LINE_MANAGER,
            "concern_tags": ["child_on_child"],
            "recipients": [SCHOOL],
        },
        {
            SCHOOL_DSL: e(
                "share_minimised",
                ["child", "concern_summary", "meeting_at", "strategy_kind"],
                ("C3",),
                ("strategy_meeting",),
            )
        },
    ),
    # --- M11 adult safeguarding ------------------------------------------------------------------
    s(
        "m11-adult-consents",
        "CPCH-Policy, 6. Strategy Meeting/Safeguarding Enquiries: Making Safeguarding Personal",
        "adult",
        {
            "lawful_basis": "consent",
            "consent": consent_given(giver="adult_subject"),
            "subjects": [{"subject_ref": "subj-1", "role_in_case": "adult_at_risk", "age_years": 81}],
        },
        {"asc-fenmere/adult_safeguarding_officer": e("share", ADULT_ALL, ("GR4", "C8"))},
    ),
    s(
        "m11-adult-refuses-serious-harm",
        "CPSCP-Procedures, Information sharing > National Guidance on Sharing Information: serious harm to adults",
        "adult",
        {
            "consent": [{"subject_ref": "subj-1", "giver": "adult_subject", "status": "refused"}],
            "risk": {"serious_harm_to_adult": True},
        },
        {"asc-fenmere/adult_safeguarding_officer": e("share_urgent_review_after", ADULT_ALL, ("C7", "GR4"))},
    ),
    s(
        "m11-adult-refuses-no-risk",
        "CPCH-Policy, 6. Strategy Meeting/Safeguarding Enquiries: consent unless others at risk",
        "adult",
        {"consent": [{"subject_ref": "subj-1", "giver": "adult_subject", "status": "refused"}]},
        {
            "asc-fenmere/adult_safeguarding_officer": e(
                "needs_advice",
                ["abuse_or_neglect", "adult", "care_and_support_needs", "unable_to_protect_self"],
                ("GR4", "C7"),
            )
        },
    ),
    # --- M13 MARAC --------------------------------------------------------------------------------
    s(
        "m13-marac-high-risk",
        "CPSCP-Procedures, Identification of Individuals who Pose a Risk to Children > 3.2 MARAC (Multi Agency Risk "
        "Assessment Conference): MARAC for high-risk domestic abuse",
        "marac",
        {
            "risk": {"likely_significant_harm": True, "da_high_risk_marac": True},
            "consent": not_sought("risk_to_others_or_immediate_harm"),
            "concern_tags": ["domestic_abuse"],
        },
        {
            "marac-fenmere/marac_coordinator": e(
                "share", ["dash_summary", "perpetrator", "victim", "victim_safe_address"], ("GR6", "GR4")
            )
        },
    ),
    s(
        "m13-marac-not-high-risk",
        "CPCH-Policy, 5. Response to the Parent/Carer: MARAC where risk is high",
        "marac",
        {"consent": not_sought("risk_to_others_or_immediate_harm"), "concern_tags": ["domestic_abuse"]},
        {
            "marac-fenmere/marac_coordinator": e(
                "needs_advice", ["dash_summary", "perpetrator", "victim", "victim_safe_address"], ("GR6",)
            )
        },
    ),
    # --- M14 LADO -----------------------------------------------------------------------------------
    s(
        "m14-teacher-allegation",
        "CPSCP-Procedures, LADO > 3. General Considerations Relating to Allegations Against People who Work with "
        "Children > Persons to be notified: LADO within 1 WD; CPSCP-Procedures, LADO > 6. LADO Allegation Management "
        "Meetings (AMM): AMM within 3 WD",
        "lado",
        {
            "risk": LIKELY,
            "recipients": [
                {"agency_id": "lado-fenmere", "role": "lado_officer", "need_to_know": "assess_and_decide"},
                POLICE,
            ],
        },
        {LADO: e("share", LADO_ALL, ("C4",), ("convene_amm",)), POL: e("share", LADO_ALL, ("C4",))},
    ),
    s(
        "m14-allegation-to-school-nurse",
        "CPSCP-Procedures, LADO > 3. General Considerations Relating to Allegations Against People who Work with "
        "Children > Confidentiality: LADO information need-to-know only",
        "lado",
        {"recipients": [{"agency_id": "gp-willow-lane", "role": "gp", "need_to_know": "provide_support"}]},
        {"gp-willow-lane/gp": e("no_share", [], ("C4",))},
    ),
    # --- M15 / M16 disclosures ----------------------------------------------------------------------
    s(
        "m15-dvds-decision-to-csc",
        "CPSCP-Procedures, Information sharing > The Domestic Violence Disclosure Scheme: police common-law power",
        "dvds",
        {"risk": LIKELY},
        {MASH: e("share", DVDS_ALL, ("C1", "GR1"))},
    ),
    s(
        "m15-dvds-decision-not-from-police",
        "CPSCP-Procedures, Information sharing > The Domestic Violence Disclosure Scheme: only police decide "
        "disclosure",
        "dvds",
        {"sender": {"agency_id": "school-hollins-academy", "role": "dsl"}},
        {MASH: e("no_share", [], ("C1",))},
    ),
    s(
        "m15-dvds-request-right-to-know",
        "CPSCP-Procedures, Information sharing > The Domestic Violence Disclosure Scheme: partner agencies ask police",
        "dvds",
        {
            "sender": {"agency_id": "csc-fenmere-mash", "role": "social_worker"},
            "risk": LIKELY,
            "payload": {"stage": "agency_request", "relevant_convictions": DELETE, "disclosure_decision": DELETE},
            "recipients": [
                POLICE,
                {
                    "agency_id": "vcs-riverside-juniors-fc",
                    "role": "safeguarding_lead",
                    "need_to_know": "provide_support",
                },
            ],
        },
        {
            POL: e("share", ["person_at_risk", "route", "stage", "subject_person"]),
            "vcs-riverside-juniors-fc/safeguarding_lead": e("no_share", [], ("C4",)),
        },
    ),
    s(
        "m16-csod-no-undertaking",
        "CPSCP-Procedures, Information sharing > Child Sex Offender Disclosure Scheme: signed undertaking",
        "csod",
        {"risk": LIKELY, "recipients": [SOCIAL_WORKER_FAMILY]},
        {
            "csc-fenmere-mash/social_worker": e(
                "hold_for_authorisation", ["child", "disclosure_decision", "stage"], ("C5",)
            )
        },
    ),
    s(
        "m16-csod-undertaking-signed",
        "CPSCP-Procedures, Information sharing > Child Sex Offender Disclosure Scheme; I10 disclosure content not to "
        "the public",
        "csod",
        {
            "risk": LIKELY,
            "restrictions": {"undertaking_signed": True, "onward_disclosure_prohibited": True},
            "recipients": [SOCIAL_WORKER_FAMILY],
        },
        {
            "csc-fenmere-mash/social_worker": e(
                "share_minimised", ["child", "disclosure_decision", "stage"], ("C5", "GR5")
            )
        },
    ),
    # --- M17 moves ----------------------------------------------------------------------------------
    s(
        "m17-cp-plan-transfer",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child Subject of a Child Protection Plan: CP plan 14 days before; conference in 15 WD",
        "transfer",
        {},
        {EASTHOLT: e("share", TRANSFER_ALL, ("C4",), ("transfer_in_conference", "written_follow_up"))},
    ),
    s(
        "m17-cp-transfer-without-plan",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child Subject of a Child Protection Plan: mandatory transfer items",
        "transfer",
        {"payload": {"cp_plan": DELETE, "assessments": DELETE}},
        {
            EASTHOLT: e(
                "hold_for_authorisation",
                ["child", "legal_status", "move_date", "new_address", "transfer_type"],
                ("GR6",),
            )
        },
    ),
    s(
        "m17-cin-move-no-parental-agreement",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child in Need, Or Subject of Child and Family Assessment: explicit parental agreement",
        "transfer",
        {
            "payload": {"transfer_type": "cin_or_assessment"},
            "consent": [{"subject_ref": "subj-1", "giver": "parent_pr", "status": "not_sought"}],
        },
        {EASTHOLT: e("hold_for_authorisation", TRANSFER_ALL, ("GR2", "GR4"))},
    ),
    s(
        "m17-court-report-no-permission",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child in Need, Or Subject of Child and Family Assessment: no reports without court permission",
        "transfer",
        {"payload": {"transfer_type": "care_proceedings_or_order_at_home", "court_reports": "Fictional report."}},
        {EASTHOLT: e("no_share", [], ("C6",))},
    ),
    s(
        "m17-education-record-to-school",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Responsibilities of Education Professionals: records to the named school",
        "transfer",
        {
            "payload": {"transfer_type": "education_record_transfer"},
            "recipients": [{"agency_id": "school-hollins-academy", "role": "dsl", "need_to_know": "provide_support"}],
        },
        {
            "school-hollins-academy/dsl": e(
                "share_minimised", ["child", "cp_plan", "legal_status", "move_date", "transfer_type"], ("C3",)
            )
        },
    ),
    # --- M19 child death ----------------------------------------------------------------------------
    s(
        "m19-sudi-to-cdop",
        "CPSCP-Procedures, Child death > 4.2 Informing the Co-ordinator for Child Death Overview Panel (CDOP) "
        "Arrangements: Form A to CDOP; CPSCP-Procedures, Child death > 4.5 Initial Case Management Discussion: ICMD "
        "within 12 h",
        "death",
        {},
        {CDOP: e("share", DEATH_ALL, ("C6",), ("initial_case_management_discussion",))},
    ),
    s(
        "m19-post-mortem-without-coroner",
        "CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist: Coroner's discretion",
        "death",
        {"payload": {"post_mortem_findings": "Fictional provisional findings."}},
        {CDOP: e("no_share", [], ("C6",))},
    ),
    s(
        "m19-suspected-harm-siblings",
        "CPSCP-Procedures, Child death > 3.10.1 Social Care: suspected deliberate harm: CSC for siblings",
        "death",
        {
            "risk": LIKELY,
            "payload": {"death_type": "criminal_suspected", "suspected_deliberate_harm": True},
            "recipients": [CSC],
        },
        {MASH: e("share", DEATH_ALL, ("GR5",), ("initial_case_management_discussion", "safeguard_siblings"))},
    ),
    # --- M20 missing children -----------------------------------------------------------------------
    s(
        "m20-looked-after-missing",
        "CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Part 2 - Child "
        "Victims of Trafficking and/or Modern Slavery > Assessment: pass risk information to police",
        "missing",
        {"risk": LIKELY},
        {POL: e("share", MISSING_ALL, ("C2", "C4"))},
    ),
    s(
        "m20-trafficked-missing",
        "CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Part 2 - Child "
        "Victims of Trafficking and/or Modern Slavery > Assessment: trafficked children go missing within 72 h",
        "missing",
        {"risk": LIKELY, "concern_tags": ["trafficking_modern_slavery"]},
        {POL: e("share", MISSING_ALL, (), ("pass_risk_to_police",))},
    ),
    s(
        "m20-monitoring-with-identity",
        "CPSCP-Procedures, Child exploitation > Performance and Quality Assurance Framework: partnership monitoring "
        "data: age, gender, episodes",
        "missing",
        {"purpose": "partnership_monitoring"},
        {POL: e("no_share", [], ("C2",))},
    ),
    s(
        "m20-monitoring-deidentified",
        "CPSCP-Procedures, Child exploitation > Performance and Quality Assurance Framework",
        "missing",
        {
            "purpose": "partnership_monitoring",
            "payload": {
                "child": DELETE,
                "physical_description": DELETE,
                "last_known_location": DELETE,
                "risk_factors": DELETE,
                "looked_after": DELETE,
                "episode_count": 3,
            },
        },
        {POL: e("share", ["age_band", "episode_count", "missing_since"], ("C2",))},
    ),
]
