"""Base notifications for the casework types (M26, M24, M23, M12); merged into `BASES`.

Every person here is invented; agencies are the fictional demo partnership.
"""

from __future__ import annotations

from typing import Any

from tests.policy.bases import CHILD, CSC, PRO_REFERRER, _envelope, consent_given

HEALTH_VISITING = {"agency_id": "health-visiting-fenmere", "role": "health_visitor", "need_to_know": "provide_support"}
ASC_TRANSITIONS = {"agency_id": "asc-fenmere", "role": "transitions_worker", "need_to_know": "provide_support"}
HOSPITAL = {"agency_id": "hospital-fenmere-general", "role": "named_professional"}

CASEWORK_BASES: dict[str, dict[str, Any]] = {
    "eha": {
        **_envelope(
            "early_help_assessment_share",
            "request_for_services",
            "consent",
            {"agency_id": "school-oakfield-primary", "role": "dsl"},
            [HEALTH_VISITING],
            {
                "child": CHILD,
                "going_well": "Fictional: warm relationship with mum; good attendance.",
                "worries": "Fictional: sleep and speech delay; family finances.",
                "views_and_wishes": "Fictional: mum wants help with routines.",
                "plan_and_next_steps": "Fictional: health visitor review; review in 3 months.",
                "lead_professional": PRO_REFERRER,
            },
            17,
        ),
        "consent": consent_given(scope_agencies=["health-visiting-fenmere", "vcs-riverside-juniors-fc"]),
    },
    "discharge": _envelope(
        "hospital_discharge_hold",
        "safeguarding_concern",
        "safeguarding_children_individuals_at_risk",
        HOSPITAL,
        [CSC, {**CSC, "agency_id": "csc-eastholt", "need_to_know": "protect_child"}],
        {
            "certainty": "suspected",
            "child": {**CHILD, "family_name": "Child Omicron", "date_of_birth": "2025-11-01"},
            "hospital_and_ward": "Fenmere General (fictional), children's ward",
            "admitted_at": "2026-03-01T23:10:00Z",
            "concern": "Fictional: unexplained fracture in a non-mobile baby.",
            "discharge_held": True,
            "injuries_and_treatment": "Fictional: fracture, skeletal survey pending.",
            "home_address": "5 Example Row, Eastholt",
        },
        18,
    ),
    "osman": _envelope(
        "osman_warning_referral",
        "safeguarding_concern",
        "legal_obligation_statutory",
        {"agency_id": "police-fenmere", "role": "police_public_protection"},
        [CSC],
        {
            "child": {**CHILD, "family_name": "Child Pi", "gender": "male"},
            "warning_issued_at": "2026-03-02T09:00:00Z",
            "threat_summary": "Fictional: intelligence of a threat to stab the child.",
            "child_location": "At home (fictional)",
            "gang_context": "Fictional: rival group, knives.",
        },
        19,
    ),
    "transition": _envelope(
        "transition_to_adult_services",
        "transition_planning",
        "consent",
        {"agency_id": "csc-fenmere-mash", "role": "social_worker"},
        [ASC_TRANSITIONS],
        {
            "young_person": {**CHILD, "family_name": "Young Person Rho", "date_of_birth": "2009-01-15"},
            "eighteenth_birthday": "2027-01-15",
            "risk_to_others": "Fictional: assessed as posing a sexual risk to younger children.",
            "care_and_support_needs": "Fictional: mild learning disability.",
            "next_review_at": "2026-04-10T10:00:00Z",
        },
        20,
    ),
    "nrm": _envelope(
        "nrm_referral",
        "national_referral_mechanism",
        "legal_obligation_statutory",
        {"agency_id": "csc-fenmere-mash", "role": "social_worker"},
        [{"agency_id": "sca-home-office", "role": "nrm_decision_maker", "need_to_know": "statutory_notification"}],
        {
            "exploitation_type": "criminal",
            "child": {**CHILD, "family_name": "Child Sigma", "gender": "male"},
            "indicators": "Fictional: found far from home holding drugs and two phones.",
            "csc_referral_reference": "REF-TEST-0077",
            "child_told": True,
            "immigration_status": "Fictional: British national.",
            "current_location": "Emergency foster placement (fictional)",
        },
        21,
    ),
    "prevent": _envelope(
        "radicalisation_concern",
        "safeguarding_concern",
        "safeguarding_children_individuals_at_risk",
        {"agency_id": "school-hollins-academy", "role": "dsl"},
        [{"agency_id": "police-fenmere", "role": "police_public_protection", "need_to_know": "assess_and_decide"}],
        {
            "family_links": "none_known",
            "child": {**CHILD, "family_name": "Child Tau"},
            "concern": "Fictional: repeated talk supporting violence against a group.",
            "online_activity": "Fictional: shares extremist videos.",
        },
        22,
    ),
    "offender": _envelope(
        "offender_risk_information",
        "safeguarding_concern",
        "legal_obligation_statutory",
        {"agency_id": "probation-fenmere", "role": "probation_officer"},
        [CSC],
        {
            "mappa_level": "level_2",
            "offender": {"given_name": "Test", "family_name": "Offender Upsilon"},
            "risk_summary": "Fictional: high risk of sexual harm to girls under 12.",
            "convictions": "Fictional: relevant conviction.",
            "children_in_contact": [{**CHILD, "family_name": "Child Phi"}],
            "offender_address": "6 Example Row, Fenmere",
        },
        23,
    ),
    "protection": _envelope(
        "police_protection_notice",
        "safeguarding_concern",
        "legal_obligation_statutory",
        {"agency_id": "police-fenmere", "role": "police_public_protection"},
        [{**CSC, "role": "edt", "need_to_know": "protect_child"}],
        {
            "child": {**CHILD, "family_name": "Child Chi"},
            "protected_at": "2026-03-01T02:30:00Z",
            "reason": "Fictional: toddler alone at home, carers intoxicated.",
            "child_location": "Police station family room (fictional)",
        },
        24,
    ),
}
CASEWORK_BASES["transition"]["consent"] = consent_given()
CASEWORK_BASES["transition"]["subjects"] = [{"subject_ref": "subj-1", "role_in_case": "child", "age_years": 17}]
