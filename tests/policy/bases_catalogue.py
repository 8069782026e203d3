"""Base notifications for the remaining catalogue types (M04, M05, M07-M10, M27, M28, M30, M33, M34)
and the adviser's answer to an M32 question; merged into `BASES`.

Every person here is invented; agencies are the fictional demo partnership (plus the test
registry's additions in tests/policy/conftest.py).
"""

from __future__ import annotations

from typing import Any

from tests.policy.bases import CHILD, CSC, POLICE, PRO_REFERRER, _envelope, consent_given

SAFE = "safeguarding_children_individuals_at_risk"
CSC_SW = {"agency_id": "csc-fenmere-mash", "role": "social_worker"}
CSC_TM = {"agency_id": "csc-fenmere-mash", "role": "team_manager"}
ALLOCATED_SW = {"agency_id": "csc-fenmere-mash", "role": "social_worker", "need_to_know": "protect_child"}
EASTHOLT_TM = {"agency_id": "csc-eastholt", "role": "team_manager", "need_to_know": "transfer_case"}
SCHOOL_MEETING = {"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "attend_meeting"}
GP_MEETING = {"agency_id": "gp-willow-lane", "role": "gp", "need_to_know": "attend_meeting"}
SCHOOL_PLAN = {"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "coordinate_plan"}
HOUSING_PLAN = {"agency_id": "housing-brookside", "role": "housing_officer", "need_to_know": "coordinate_plan"}
HOLLINS = {"agency_id": "school-hollins-academy", "role": "dsl", "need_to_know": "provide_support"}
MH_TRUST = {"agency_id": "mh-fenmere-trust", "role": "safeguarding_lead"}
SW_REF = {**PRO_REFERRER, "name": "Jo Example", "job_title": "Social Worker"}

CATALOGUE_BASES: dict[str, dict[str, Any]] = {
    "new_info": _envelope(
        "additional_information",
        "safeguarding_concern",
        SAFE,
        {"agency_id": "health-visiting-fenmere", "role": "health_visitor"},
        [ALLOCATED_SW],
        {
            "child": {**CHILD, "family_name": "Child Sigma"},
            "case_reference": "CSC-FICTION-0031",
            "new_information": "Fictional: at the home visit a new adult male was living in the house.",
            "observed_at": "2026-03-02T09:30:00Z",
            "health_information": "Fictional: weight has dropped below the 2nd centile.",
            "household_change": "Fictional: mother's new partner, name not known.",
            "source_professional": {**PRO_REFERRER, "job_title": "Health Visitor"},
        },
        31,
    ),
    "crime": _envelope(
        "crime_notification",
        "crime_investigation",
        "crime_prevention_s115_cda1998",
        CSC_TM,
        [POLICE],
        {
            "child": {**CHILD, "family_name": "Child Tau"},
            "suspected_offence": "Fictional: a disclosure of being hit with a belt by a step-parent last night.",
            "child_location": "At school until 15:15 (fictional)",
            "alleged_perpetrator": "Fictional: the step-parent.",
            "injuries": "Fictional: linear bruising to the back of the legs.",
            "parents_plan": "Fictional: joint visit after the police decide; parents not told before then.",
            "notifier": {**SW_REF, "job_title": "Team Manager"},
        },
        32,
    ),
    "s47": _envelope(
        "s47_enquiry",
        "child_protection_enquiry",
        "legal_obligation_statutory",
        CSC_SW,
        [EASTHOLT_TM],
        {
            "stage": "enquiry_notice",
            "child": {**CHILD, "family_name": "Child Upsilon"},
            "enquiry_started_at": "2026-03-01T15:00:00Z",
            "concerns": "Fictional: repeated unexplained injuries; the family plans to move to Eastholt.",
            "new_address": "7 Example Row, Eastholt",
            "risk_assessment": "Fictional: risk of significant harm continues.",
            "relevant_adults": "Fictional: the father is managed under MAPPA level 2.",
            "lead_professional": SW_REF,
        },
        33,
    ),
    "conference": _envelope(
        "cp_conference",
        "child_protection_conference",
        "legal_obligation_statutory",
        CSC_TM,
        [SCHOOL_MEETING, GP_MEETING],
        {
            "stage": "invitation",
            "child": {**CHILD, "family_name": "Child Phi"},
            "conference_at": "2026-03-16T10:00:00Z",
            "reason_for_conference": "Fictional: section 47 enquiries found neglect likely to cause significant harm.",
            "family_language": "Polish (fictional)",
            "chair": {**SW_REF, "name": "Lee Example", "job_title": "Conference Chair"},
        },
        34,
    ),
    "assessment": _envelope(
        "assessment_outcome",
        "case_planning",
        "legal_obligation_statutory",
        CSC_SW,
        [{"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "feedback_to_referrer"}],
        {
            "decision": "child_in_need_plan",
            "child": {**CHILD, "family_name": "Child Chi"},
            "referral_reference": "REF-FICTION-0035",
            "referral_received_at": "2026-01-12T09:00:00Z",
            "completed_on": "2026-02-27",
            "summary": "Fictional: child in need plan; school to monitor attendance.",
            "analysis": "Fictional: parenting is loving but overwhelmed.",
            "health_needs": "Fictional: untreated dental decay.",
            "child_views": "Fictional: wants to stay at the same school.",
        },
        35,
    ),
    "plan_review": _envelope(
        "plan_review_notice",
        "case_planning",
        "legal_obligation_statutory",
        CSC_SW,
        [SCHOOL_PLAN],
        {
            "plan_kind": "cin_first_review",
            "child": {**CHILD, "family_name": "Child Psi"},
            "review_at": "2026-06-02T14:00:00Z",
            "plan_summary": "Fictional: school attendance support; parenting course.",
            "progress": "Fictional: attendance up from 70% to 88%.",
            "family_views": "Fictional: mum finds the course helpful.",
            "lead_professional": SW_REF,
        },
        36,
    ),
    "prebirth": {
        **_envelope(
            "prebirth_concern",
            "safeguarding_concern",
            "consent",
            {"agency_id": "health-visiting-fenmere", "role": "midwife"},
            [CSC],
            {
                "stage": "prebirth_concern",
                "expectant_parent": {"given_name": "Test", "family_name": "Parent Omega", "gender": "female"},
                "expected_delivery_date": "2026-07-20",
                "concern": "Fictional: daily heroin use; two older children removed in the past.",
                "parental_health": "Fictional: opiate dependence, on a methadone script.",
                "domestic_abuse": "Fictional: police called twice to the address this year.",
                "home_address": "9 Example Row, Fenmere",
                "referrer": {**PRO_REFERRER, "name": "Ash Example", "job_title": "Community Midwife"},
            },
            37,
        ),
        "subjects": [{"subject_ref": "subj-1", "role_in_case": "unborn_child", "age_years": None}],
        "consent": consent_given(),
        "parental_position": {"parents_informed": True, "parent_withheld_permission": False},
    },
    "closure": _envelope(
        "case_closure_notice",
        "case_planning",
        "public_interest",
        MH_TRUST,
        [{**CSC, "need_to_know": "protect_child"}],
        {
            "service": "adult_mental_health",
            "parent": {"given_name": "Test", "family_name": "Parent Alpha-Two"},
            "children": [{**CHILD, "family_name": "Child Beta-Two"}],
            "closing_on": "2026-03-20",
            "reason_for_closure": "Fictional: stable for six months; discharged to the GP.",
            "implications_for_children": "Fictional: relapse signs to watch; the children were young carers.",
            "treatment_summary": "Fictional: bipolar disorder, on lithium.",
            "worker": {**PRO_REFERRER, "name": "Robin Example", "job_title": "Care Co-ordinator"},
        },
        38,
    ),
    "dog": _envelope(
        "dog_injury_referral",
        "safeguarding_concern",
        SAFE,
        {"agency_id": "hospital-fenmere-general", "role": "named_professional"},
        [CSC],
        {
            "stage": "injury_referral",
            "dog": "Fictional: large cross-breed, 'Rex'",
            "address": "11 Example Row, Fenmere",
            "circumstances": "Fictional: toddler bitten on the face while left alone with the dog.",
            "child": {**CHILD, "family_name": "Child Gamma-Two", "date_of_birth": "2024-05-01"},
            "injury": "Fictional: facial lacerations, sutured under anaesthetic.",
            "owner": "Fictional: the child's uncle.",
            "risk_factors": "Fictional: dog kept for guarding; bitten before.",
            "referrer": {**PRO_REFERRER, "name": "Kit Example", "job_title": "ED Consultant"},
        },
        39,
    ),
    "escalation": _envelope(
        "professional_disagreement",
        "professional_escalation",
        SAFE,
        {"agency_id": "school-oakfield-primary", "role": "dsl"},
        [{**CSC_TM, "need_to_know": "assess_and_decide"}],
        {
            "ground": "no_decision_after_3_wd",
            "referral_reference": "REF-FICTION-0040",
            "referred_at": "2026-02-25T09:00:00Z",
            "child": {**CHILD, "family_name": "Child Delta-Two"},
            "disagreement": "Fictional: no decision five working days after the referral.",
            "current_concern": "Fictional: the child came to school hungry again today.",
            "resolution_sought": "Fictional: a decision today, or a call from the line manager.",
            "referrer": PRO_REFERRER,
        },
        40,
    ),
    "suicide": _envelope(
        "suicide_response",
        "safeguarding_concern",
        SAFE,
        CSC_TM,
        [HOLLINS],
        {
            "stage": "serious_attempt",
            "young_person": {**CHILD, "family_name": "Young Person Epsilon-Two", "date_of_birth": "2011-09-01"},
            "event_at": "2026-03-01T22:00:00Z",
            "school": "Hollins Academy (fictional)",
            "meeting_at": "2026-03-03T09:00:00Z",
            "circumstances": "Fictional: overdose; now medically fit.",
            "mental_health_history": "Fictional: known to CAMHS for low mood.",
            "risks_to_others": "Fictional: close friend in the same tutor group also self-harms.",
            "lead_coordinator": {**PRO_REFERRER, "name": "Sky Example", "job_title": "Pastoral Lead"},
        },
        41,
    ),
    "advice_answer": _envelope(
        "advice_request",
        "seek_advice",
        "unsure",
        {"agency_id": "gp-willow-lane", "role": "named_professional"},
        [{"agency_id": "gp-willow-lane", "role": "gp", "need_to_know": "assess_and_decide"}],
        {
            "stage": "advice_given",
            "topic": "health_information",
            "question": "Fictional: may I tell the school about a parent's mental-health crisis?",
            "advice": "Fictional: share the minimum the school needs to support the child; tell the parent.",
        },
        42,
    ),
}
