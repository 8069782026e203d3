"""The scenario suite: realistic notifications drawn from the source documents, with the expected decision.

One row per case, readable by an IG lead: `s(id, source, base, facts, expect)`. The facts are a patch
on a base notification (tests/policy/bases.py); per recipient ("agency_id/role") the row expects
`e(outcome, by, withheld=..., also=..., obligations=...)`:

- `outcome`: the decision for that recipient;
- `by`: the rule id of the finding that decided it (the first entry of `decided_by`);
- `withheld`: the fields the recipient does not get (ALL: every field, as for any no_share); every
  other field of the notification is what it gets, now or on release of a held decision;
- `also`: further rule ids that must appear among the reasons; `obligations`: follow-up kinds.

Sources are cited as `KEY, Chapter > Section` with the keys of policies/SOURCES.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.policy.bases import CSC, DELETE, POLICE, consent_given, consent_refused, not_sought

MASH = "csc-fenmere-mash/mash_intake"
POL = "police-fenmere/police_public_protection"
TOLD: dict[str, bool] = {"parents_informed": True, "parent_withheld_permission": False}
NOT_TOLD_E1: dict[str, bool | str | None] = {
    "parents_informed": False,
    "parent_withheld_permission": None,
    "reason_not_informed": "risk_significant_harm",
}
LIKELY: dict[str, bool] = {"likely_significant_harm": True}
IMMEDIATE: dict[str, bool] = {"immediate_significant_harm": True, "likely_significant_harm": True}
LINE_MANAGER = {
    "authoriser_role": "line_manager",
    "authoriser_ref": "mgr-01",
    "authorised_at": "2026-03-02T10:05:00Z",
    "reason": "Fictional: reviewed, sharing justified.",
}
SOCIAL_WORKER_FAMILY: dict[str, str | bool] = {
    **CSC,
    "role": "social_worker",
    "need_to_know": "protect_child",
    "conveys_to_family": True,
}


def s(sid: str, source: str, base: str, patch: dict[str, Any], expect: dict[str, Any]) -> dict[str, Any]:
    return {"id": sid, "source": source, "base": base, "patch": patch, "expect": expect}


ALL = "all"  # every field of the notification is withheld


def e(
    outcome: str,
    by: str,
    withheld: Sequence[str] = (),
    also: tuple[str, ...] = (),
    obligations: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "by": by,
        "withheld": ALL if withheld == ALL else sorted(withheld),
        "rules": [by, *also],
        "obligations": list(obligations),
    }


CONSENTED: dict[str, Any] = {"lawful_basis": "consent", "consent": consent_given(), "parental_position": TOLD}

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
                "I14",
                also=("GR2", "GR4", "GR7"),
                obligations=("review_urgent_share", "acknowledge_referral", "decide_referral"),
            ),
            POL: e("share_urgent_review_after", "I14", also=("C7",), obligations=("review_urgent_share",)),
        },
    ),
    s(
        "m01-school-neglect-consent",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 4: share with "
        "consent where possible",
        "referral",
        {**CONSENTED, "concern_tags": ["neglect"]},
        {MASH: e("share", "GR1", also=("GR4", "GR2", "C8", "C3"), obligations=("acknowledge_referral",))},
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
        {MASH: e("needs_advice", "GR4", also=("C7",))},
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
        {MASH: e("share", "GR1", also=("GR4",), obligations=("acknowledge_referral",))},
    ),
    s(
        "m01-early-help-request-refused",
        "CPSCP-Procedures, Threshold policy > Parental Consent: consent always needed to request services",
        "referral",
        {"purpose": "request_for_services", "consent": consent_refused(), "parental_position": TOLD},
        {MASH: e("no_share", "GR4", withheld=ALL, also=("GR7",))},
    ),
    s(
        "m01-early-help-request-consented",
        "CPSCP-Procedures, Threshold policy > Parental Consent; CPSCPB-CSA-Strategy, Section Two > Early help "
        "assessment > Parental Consent: EHA privacy notice",
        "referral",
        {**CONSENTED, "purpose": "request_for_services"},
        {MASH: e("share", "GR1", also=("GR4", "C8"))},
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
        {MASH: e("hold_for_authorisation", "GR4")},
    ),
    s(
        "m01-no-lawful-basis",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 4: be clear of "
        "the basis",
        "referral",
        {**CONSENTED, "lawful_basis": None},
        {MASH: e("hold_for_authorisation", "GR1")},
    ),
    s(
        "m01-basis-unsure",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 3: seek advice "
        "from the IG lead",
        "referral",
        {**CONSENTED, "lawful_basis": "unsure"},
        {MASH: e("needs_advice", "GR1")},
    ),
    s(
        "m01-no-purpose",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 1: justify the purpose",
        "referral",
        {**CONSENTED, "purpose": None},
        {MASH: e("hold_for_authorisation", "C1")},
    ),
    s(
        "m01-wrong-purpose",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 1",
        "referral",
        {**CONSENTED, "purpose": "child_death_review"},
        {MASH: e("no_share", "C1", withheld=ALL)},
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
        {MASH: e("share", "GR1", also=("C4",)), "housing-brookside/housing_officer": e("no_share", "C4", withheld=ALL)},
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
        {MASH: e("share", "GR1", also=("GR5",)), POL: e("share_minimised", "I11", withheld=["public_referrer"])},
    ),
    s(
        "m01-phone-referral",
        "CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer: phone referrals "
        "confirmed in writing in 24 h",
        "referral",
        {**CONSENTED, "initial_contact": "phone"},
        {MASH: e("share", "GR1", obligations=("written_confirmation", "acknowledge_referral"))},
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
            MASH: e("share", "GR1", also=("GR5",)),
            POL: e("share", "GR1"),
            "csc-fenmere-mash/social_worker": e("no_share", "GR5", withheld=ALL, also=("I19",)),
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
        # Never blocked at immediate risk (sg-policy-0.7.12): sent now, without what could endanger her.
        {
            "csc-fenmere-mash/social_worker": e(
                "share_urgent_review_after", "I14", withheld=["current_location"], also=("GR5", "I19")
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
        {POL: e("needs_advice", "GR5", withheld=["concern_summary", "current_location", "home_address", "referrer"])},
    ),
    s(
        "m01-court-report-without-permission",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child in Need, Or Subject of Child and Family Assessment: court reports need permission",
        "referral",
        {**CONSENTED, "risk": LIKELY, "payload": {"court_reports": "Fictional s7 report extract."}},
        {MASH: e("share_minimised", "C6", withheld=["court_reports"])},
    ),
    s(
        "m01-court-report-immediate",
        "CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies and organisations; "
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child in Need, Or Subject of Child and Family Assessment",
        "referral",
        {**CONSENTED, "risk": IMMEDIATE, "payload": {"court_reports": "Fictional s7 report extract."}},
        {MASH: e("share_urgent_review_after", "I14", withheld=["court_reports"], also=("C6",))},
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
        {MASH: e("share", "GR1", also=("C6",))},
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
        {MASH: e("share_urgent_review_after", "C7", also=("I44",))},
    ),
    s(
        "m01-unregistered-recipient",
        "I06 (project invariant): verified endpoints only",
        "referral",
        {
            **CONSENTED,
            "recipients": [{"agency_id": "csc-elsewhere", "role": "mash_intake", "need_to_know": "assess_and_decide"}],
        },
        {"csc-elsewhere/mash_intake": e("no_share", "SYS-AGENCY", withheld=ALL, also=("GR7",))},
    ),
    s(
        "m01-dsl-in-doubt",
        "CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing (the questions that "
        "follow them): not sure: seek advice",
        "referral",
        {**CONSENTED, "sender_in_doubt": True},
        {MASH: e("needs_advice", "GR3")},
    ),
    s(
        "m01-location-missing",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral: establish the child's "
        "current location",
        "referral",
        {**CONSENTED, "payload": {"current_location": DELETE}},
        {MASH: e("hold_for_authorisation", "GR6")},
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
        {MASH: e("hold_for_authorisation", "C8")},
    ),
    s(
        "m01-parents-not-told-no-reason",
        "CPSCP-Procedures, Responding to concerns about a child > Consulting parents: decision recorded with reasons",
        "referral",
        {
            "consent": not_sought("risk_significant_harm"),
            "parental_position": {"parents_informed": False, "parent_withheld_permission": None},
        },
        {MASH: e("hold_for_authorisation", "GR2")},
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
        {MASH: e("needs_advice", "GR3", also=("I26",))},
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
        {POL: e("share_minimised", "C3", withheld=["child_condition"], also=("GR3",))},
    ),
    s(
        "m01-hostile-family",
        "CPSCP-Procedures, Hostile parents > 5.1 Multi-agency meetings: plan what to share with a hostile family",
        "referral",
        {**CONSENTED, "concern_tags": ["hostile_family"], "recipients": [SOCIAL_WORKER_FAMILY]},
        {"csc-fenmere-mash/social_worker": e("needs_advice", "GR3", withheld=["current_location"])},
    ),
]

SCHOOL_DSL = "school-oakfield-primary/dsl"
PREJUDICE = not_sought("prejudice_crime")
ASC = {"agency_id": "asc-fenmere", "role": "adult_safeguarding_officer", "need_to_know": "attend_meeting"}
SCHOOL = {"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "attend_meeting"}
LADO = "lado-fenmere/lado_officer"
EASTHOLT = "csc-eastholt/team_manager"
CDOP = "cdop-fenmere/cdop_manager"

SCENARIOS += [
    # --- M02 / M03 acknowledgement and outcome ------------------------------------------------
    s(
        "m02-acknowledgement",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral: acknowledge within 1 "
        "working day",
        "acknowledgement",
        {},
        {SCHOOL_DSL: e("share", "GR1", also=("C1", "C4"))},
    ),
    s(
        "m02-acknowledgement-from-school",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral: CSC acknowledges",
        "acknowledgement",
        {"sender": {"agency_id": "school-hollins-academy", "role": "dsl"}},
        {SCHOOL_DSL: e("no_share", "C1", withheld=ALL)},
    ),
    s(
        "m03-outcome-not-signed-off",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Outcome of Referrals: "
        "a manager signs and approves the outcome",
        "outcome",
        {},
        {SCHOOL_DSL: e("hold_for_authorisation", "GR6", withheld=["outcome_rationale"])},
    ),
    s(
        "m03-outcome-signed-off",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Outcome of Referrals; "
        "CPSCP-Procedures, Threshold policy > Childrens Social Care: referrer told the outcome",
        "outcome",
        {"authorisation": {**LINE_MANAGER, "authoriser_role": "csc_manager"}},
        {SCHOOL_DSL: e("share_minimised", "C3", withheld=["outcome_rationale"], also=("GR6",))},
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
            POL: e("share", "GR1", also=("GR4",), obligations=("strategy_meeting",)),
            "asc-fenmere/adult_safeguarding_officer": e(
                "share", "GR1", also=("C4",), obligations=("strategy_meeting",)
            ),
        },
    ),
    s(
        "m06-no-line-manager",
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Screening of Referrals "
        "by Children's Social Care: line manager authorises discussion without parental knowledge",
        "strategy",
        {"consent": PREJUDICE},
        {POL: e("hold_for_authorisation", "GR4", withheld=["health_information"], also=("C3",))},
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
                "C3",
                withheld=["child_location", "health_information"],
                obligations=("strategy_meeting",),
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
        {"asc-fenmere/adult_safeguarding_officer": e("share", "GR1", also=("GR4", "C8"))},
    ),
    s(
        "m11-adult-refuses-serious-harm",
        "CPSCP-Procedures, Information sharing > National Guidance on Sharing Information: serious harm to adults",
        "adult",
        {
            "consent": [{"subject_ref": "subj-1", "giver": "adult_subject", "status": "refused"}],
            "risk": {"serious_harm_to_adult": True},
        },
        {"asc-fenmere/adult_safeguarding_officer": e("share_urgent_review_after", "C7", also=("GR4",))},
    ),
    s(
        "m11-adult-refuses-no-risk",
        "CPCH-Policy, 6. Strategy Meeting/Safeguarding Enquiries: consent unless others at risk",
        "adult",
        {"consent": [{"subject_ref": "subj-1", "giver": "adult_subject", "status": "refused"}]},
        {"asc-fenmere/adult_safeguarding_officer": e("needs_advice", "GR4", withheld=["address"], also=("C7",))},
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
        {"marac-fenmere/marac_coordinator": e("share", "GR1", also=("GR6", "GR4"))},
    ),
    s(
        "m13-marac-not-high-risk",
        "CPCH-Policy, 5. Response to the Parent/Carer: MARAC where risk is high",
        "marac",
        {"consent": not_sought("risk_to_others_or_immediate_harm"), "concern_tags": ["domestic_abuse"]},
        {"marac-fenmere/marac_coordinator": e("needs_advice", "GR6")},
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
        {LADO: e("share", "GR1", also=("C4",), obligations=("convene_amm",)), POL: e("share", "GR1", also=("C4",))},
    ),
    s(
        "m14-allegation-to-school-nurse",
        "CPSCP-Procedures, LADO > 3. General Considerations Relating to Allegations Against People who Work with "
        "Children > Confidentiality: LADO information need-to-know only",
        "lado",
        {"recipients": [{"agency_id": "gp-willow-lane", "role": "gp", "need_to_know": "provide_support"}]},
        {"gp-willow-lane/gp": e("no_share", "C4", withheld=ALL)},
    ),
    # --- M15 / M16 disclosures ----------------------------------------------------------------------
    s(
        "m15-dvds-decision-to-csc",
        "CPSCP-Procedures, Information sharing > The Domestic Violence Disclosure Scheme: police common-law power",
        "dvds",
        {"risk": LIKELY},
        {MASH: e("share", "GR1", also=("C1",))},
    ),
    s(
        "m15-dvds-decision-not-from-police",
        "CPSCP-Procedures, Information sharing > The Domestic Violence Disclosure Scheme: only police decide "
        "disclosure",
        "dvds",
        {"sender": {"agency_id": "school-hollins-academy", "role": "dsl"}},
        {MASH: e("no_share", "C1", withheld=ALL)},
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
            POL: e("share", "GR1"),
            "vcs-riverside-juniors-fc/safeguarding_lead": e("no_share", "C4", withheld=ALL),
        },
    ),
    s(
        "m16-csod-no-undertaking",
        "CPSCP-Procedures, Information sharing > Child Sex Offender Disclosure Scheme: signed undertaking",
        "csod",
        {"risk": LIKELY, "recipients": [SOCIAL_WORKER_FAMILY]},
        {
            "csc-fenmere-mash/social_worker": e(
                "hold_for_authorisation", "C5", withheld=["protector", "relevant_convictions", "subject_person"]
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
                "share_minimised", "GR5", withheld=["protector", "relevant_convictions", "subject_person"], also=("C5",)
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
        {EASTHOLT: e("share", "GR1", also=("C4",), obligations=("transfer_in_conference", "written_follow_up"))},
    ),
    s(
        "m17-cp-transfer-without-plan",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child Subject of a Child Protection Plan: mandatory transfer items",
        "transfer",
        {"payload": {"cp_plan": DELETE, "assessments": DELETE}},
        {EASTHOLT: e("hold_for_authorisation", "GR6")},
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
        {EASTHOLT: e("hold_for_authorisation", "GR2", also=("GR4",))},
    ),
    s(
        "m17-court-report-no-permission",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child in Need, Or Subject of Child and Family Assessment: no reports without court permission",
        "transfer",
        {"payload": {"transfer_type": "care_proceedings_or_order_at_home", "court_reports": "Fictional report."}},
        {EASTHOLT: e("share_minimised", "C6", withheld=["court_reports"])},
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
        {"school-hollins-academy/dsl": e("share_minimised", "C3", withheld=["assessments", "new_address"])},
    ),
    # --- M19 child death ----------------------------------------------------------------------------
    s(
        "m19-sudi-to-cdop",
        "CPSCP-Procedures, Child death > 4.2 Informing the Co-ordinator for Child Death Overview Panel (CDOP) "
        "Arrangements: Form A to CDOP; CPSCP-Procedures, Child death > 4.5 Initial Case Management Discussion: ICMD "
        "within 12 h",
        "death",
        {},
        {CDOP: e("share", "GR1", also=("C6",), obligations=("initial_case_management_discussion",))},
    ),
    s(
        "m19-post-mortem-without-coroner",
        "CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist: Coroner's discretion",
        "death",
        {"payload": {"post_mortem_findings": "Fictional provisional findings."}},
        {CDOP: e("share_minimised", "C6", withheld=["post_mortem_findings"])},
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
        {
            MASH: e(
                "share", "GR1", also=("GR5",), obligations=("initial_case_management_discussion", "safeguard_siblings")
            )
        },
    ),
    s(
        "m19-suspected-harm-without-risk-flags",
        "CPSCP-Procedures, Child death > 3.10.1 Social Care: suspected deliberate harm: CSC for siblings, read from "
        "the payload's own flag when the envelope's risk flags are unset",
        "death",
        {"payload": {"death_type": "criminal_suspected", "suspected_deliberate_harm": True}, "recipients": [CSC]},
        {
            MASH: e(
                "share", "GR1", also=("GR5",), obligations=("initial_case_management_discussion", "safeguard_siblings")
            )
        },
    ),
    # --- M20 missing children -----------------------------------------------------------------------
    s(
        "m20-looked-after-missing",
        "CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Part 2 - Child "
        "Victims of Trafficking and/or Modern Slavery > Assessment: pass risk information to police",
        "missing",
        {"risk": LIKELY},
        {POL: e("share", "GR1", also=("C2", "C4"))},
    ),
    s(
        "m20-trafficked-missing",
        "CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Part 2 - Child "
        "Victims of Trafficking and/or Modern Slavery > Assessment: trafficked children go missing within 72 h",
        "missing",
        {"risk": LIKELY, "concern_tags": ["trafficking_modern_slavery"]},
        {POL: e("share", "GR1", obligations=("pass_risk_to_police",))},
    ),
    s(
        "m20-monitoring-with-identity",
        "CPSCP-Procedures, Child exploitation > Performance and Quality Assurance Framework: partnership monitoring "
        "data: age, gender, episodes",
        "missing",
        {"purpose": "partnership_monitoring"},
        {POL: e("no_share", "C2", withheld=ALL)},
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
        {POL: e("share", "GR1", also=("C2",))},
    ),
]

# --- Consent scope: a share that relies on consent stays within what the person agreed to -------
EHA_SOURCE = (
    "CPSCP-Procedures, Policy for the Education of Children with a Parent or Close Relative in Prison or at Risk of a "
    "Custodial Sentence > Appendix 3 > Who can help?: the family chooses which agencies receive the EHA"
)
CORONER = "coroner-fenmere/coroners_officer"
CORONERS_OFFICER = {
    "agency_id": "coroner-fenmere",
    "role": "coroners_officer",
    "need_to_know": "statutory_notification",
}
POLICE_FOR_DEATH = {**POLICE, "need_to_know": "statutory_notification"}
CDOP_MANAGER = {"agency_id": "cdop-fenmere", "role": "cdop_manager", "need_to_know": "statutory_notification"}
CORONER_SOURCE = (
    "CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist: the post-mortem report goes to the Coroner "
    "first and to partners only at the Coroner's discretion"
)

SCENARIOS += [
    s(
        "m01-consent-for-early-help-with-csc-only",
        f"{EHA_SOURCE}; CPSCP-Procedures, Threshold policy > Parental Consent",
        "referral",
        {
            **CONSENTED,
            "purpose": "request_for_services",
            "consent": consent_given(scope_agency_types=["csc_front_door"]),
            "recipients": [CSC, POLICE],
        },
        {MASH: e("share", "GR1", also=("GR4",)), POL: e("no_share", "GR4", withheld=ALL)},
    ),
    s(
        "m01-consent-given-for-early-help-purpose-only",
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 1; CPSCP-Procedures, "
        "Threshold policy > Parental Consent",
        "referral",
        {**CONSENTED, "consent": consent_given(scope_purposes=["request_for_services"])},
        {MASH: e("no_share", "GR4", withheld=ALL)},
    ),
    s(
        "m01-consent-for-csc-only-but-significant-harm",
        "CPSCP-Procedures, Information sharing > National Guidance on Sharing Information: the public interest test "
        "will almost certainly be satisfied",
        "referral",
        {
            **CONSENTED,
            "risk": LIKELY,
            "consent": consent_given(scope_agencies=["csc-fenmere-mash"]),
            "recipients": [CSC, POLICE],
        },
        {
            MASH: e("share", "GR1", also=("GR4",)),
            POL: e("share_urgent_review_after", "C7", also=("GR4",), obligations=("review_urgent_share",)),
        },
    ),
    s(
        "m01-consent-covers-csc-and-police-by-type",
        EHA_SOURCE,
        "referral",
        {
            **CONSENTED,
            "consent": consent_given(scope_agency_types=["csc_front_door", "police"]),
            "recipients": [CSC, POLICE],
        },
        {MASH: e("share", "GR1", also=("GR4",)), POL: e("share", "GR1", also=("GR4",))},
    ),
    s(
        "m06-strategy-consent-excludes-school",
        f"{EHA_SOURCE}; CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > "
        "Screening of Referrals by Children's Social Care",
        "strategy",
        {"consent": consent_given(scope_agency_types=["police"]), "recipients": [POLICE, SCHOOL]},
        {
            POL: e("share", "GR1", also=("GR4",)),
            SCHOOL_DSL: e("no_share", "GR4", withheld=ALL),
        },
    ),
    # --- Permission governs its field: court and Coroner permission withhold only what they guard --
    s(
        "m19-post-mortem-to-police-and-coroners-officer",
        CORONER_SOURCE,
        "death",
        {
            "sender": {"agency_id": "cdop-fenmere", "role": "cdop_manager"},
            "payload": {"post_mortem_findings": "Fictional provisional findings.", "medical_history": DELETE},
            "recipients": [POLICE_FOR_DEATH, CORONERS_OFFICER],
        },
        {
            POL: e(
                "share_minimised",
                "C6",
                withheld=["post_mortem_findings"],
                obligations=("initial_case_management_discussion",),
            ),
            CORONER: e("share", "GR1", also=("C6",)),
        },
    ),
    s(
        "m19-post-mortem-released-by-coroner",
        CORONER_SOURCE,
        "death",
        {
            "restrictions": {"coroner_permission_required": True, "coroner_permission_obtained": True},
            "payload": {"post_mortem_findings": "Fictional provisional findings."},
        },
        {CDOP: e("share", "GR1", also=("C6",))},
    ),
    s(
        "m19-coroner-permission-needed-but-no-field-marked",
        CORONER_SOURCE,
        "death",
        {
            "restrictions": {"coroner_permission_required": True},
            "recipients": [CDOP_MANAGER, CORONERS_OFFICER],
        },
        {CDOP: e("no_share", "C6", withheld=ALL), CORONER: e("share", "GR1")},
    ),
    s(
        "m01-court-report-to-csc-and-police",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child in Need, Or Subject of Child and Family Assessment: no reports without court permission",
        "referral",
        {
            "risk": LIKELY,
            "consent": not_sought("risk_significant_harm"),
            "parental_position": NOT_TOLD_E1,
            "recipients": [CSC, POLICE],
            "payload": {"court_reports": "Fictional s7 report extract."},
        },
        {
            MASH: e("share_minimised", "C6", withheld=["court_reports"]),
            POL: e("share_minimised", "C6", withheld=["court_reports"]),
        },
    ),
    s(
        "m17-court-report-with-permission",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child Subject of a Child Protection Plan: legal orders with the court's permission",
        "transfer",
        {"restrictions": {"court_permission_obtained": True}, "payload": {"court_reports": "Fictional report."}},
        {EASTHOLT: e("share", "GR1", also=("C6",), obligations=("transfer_in_conference",))},
    ),
    # --- Statutory notices with no consent regime: not held back by consent or the health threshold --
    s(
        "m19-gp-notifies-death-parent-objects",
        "CPSCP-Procedures, Child death > 4.2 Informing the Co-ordinator for Child Death Overview Panel (CDOP) "
        "Arrangements: the partnership must be informed via the CDOP Manager",
        "death",
        {
            "sender": {"agency_id": "gp-willow-lane", "role": "gp"},
            "consent": consent_refused(),
            "recipients": [CDOP_MANAGER, POLICE_FOR_DEATH],
        },
        {
            CDOP: e("share", "GR1", also=("GR3",)),
            POL: e("share_minimised", "C3", withheld=["medical_history"], also=("GR3",)),
        },
    ),
    s(
        "m20-missing-parent-refuses",
        "CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Part 2 - Child "
        "Victims of Trafficking and/or Modern Slavery > Assessment: pass information to the police immediately",
        "missing",
        {"consent": consent_refused()},
        {POL: e("share", "GR1")},
    ),
    s(
        "m17-health-record-transfer-from-health-visitor",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Responsibilities of Health Professionals",
        "transfer",
        {
            "sender": {"agency_id": "health-visiting-fenmere", "role": "health_visitor"},
            "payload": {"transfer_type": "health_record_transfer", "health_and_education_needs": "Fictional needs."},
        },
        {EASTHOLT: e("share", "GR1", also=("GR3",), obligations=("written_follow_up",))},
    ),
    s(
        "m17-cp-transfer-parents-refuse",
        "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
        "Another > Child Subject of a Child Protection Plan: shared in all circumstances",
        "transfer",
        {"consent": consent_refused()},
        {EASTHOLT: e("share", "GR1", obligations=("transfer_in_conference",))},
    ),
]

# Message types added from the seed catalogue live in their own module (imported last: it uses the helpers above).
from tests.policy.scenarios_catalogue import CATALOGUE_SCENARIOS  # noqa: E402

SCENARIOS += CATALOGUE_SCENARIOS
from tests.policy.scenarios_casework import CASEWORK_SCENARIOS  # noqa: E402

SCENARIOS += CASEWORK_SCENARIOS
from tests.policy.scenarios_remaining import REMAINING_SCENARIOS  # noqa: E402

SCENARIOS += REMAINING_SCENARIOS
