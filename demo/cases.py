"""The demo partnership and a handful of seed-derived notifications, all clearly fictional.

No person, address or number here is real: children are "Test Child ...", professionals "Pat
Example" and friends, addresses on the invented "Imaginary Row" in the invented town of Fenmere.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from broker.partnership.roles import Office
from devstack.partnership import DEV_ROLES, AgencySpec

PARTNERSHIP_ID = "fenmere_scp"
# Every agency's pages point its staff to their own IG lead for advice and audit, so each has one.
_ROLES = (*DEV_ROLES, "ig_lead")
# Every local health service has a Caldicott Guardian of its own (domain brief §3, §10), as do social services.
_CALDICOTT = (*_ROLES, "caldicott_guardian")

AGENCIES = [
    AgencySpec("school-oakfield-primary", "education_school", "Oakfield Primary School (fictional)", roles=_ROLES),
    AgencySpec("gp-willow-lane", "health_gp", "Willow Lane Surgery (fictional GP practice)", roles=_CALDICOTT),
    AgencySpec(
        "health-visiting-fenmere", "health_community", "Fenmere Health Visiting Service (fictional)", roles=_CALDICOTT
    ),
    AgencySpec("police-fenmere", "police", "Fenmere Constabulary (fictional)", roles=_ROLES),
    AgencySpec(
        "csc-fenmere-mash",
        "csc_front_door",
        "Fenmere Children's Social Care MASH (fictional)",
        roles=(*DEV_ROLES, "ig_lead", "caldicott_guardian"),
    ),
    AgencySpec("asc-fenmere", "asc", "Fenmere Adult Social Care (fictional)", roles=_CALDICOTT),
    AgencySpec("housing-brookside", "housing", "Brookside Homes (fictional housing provider)", roles=_ROLES),
    AgencySpec("lado-fenmere", "lado", "Fenmere LADO Service (fictional)", roles=_ROLES),
    # So the guided form can offer a looked-after child's placement notice (M17) to a Virtual School,
    # the one recipient the policy adds for it (its Virtual School Head).
    AgencySpec("virtual-school-fenmere", "virtual_school", "Fenmere Virtual School (fictional)", roles=_ROLES),
    # So readers can try the procedures that name them: a MARAC referral for high-risk domestic abuse, a
    # hospital's discharge hold or child protection check, and a child moving to another local authority.
    AgencySpec("marac-fenmere", "marac", "Fenmere MARAC (fictional)", roles=_ROLES),
    AgencySpec("hospital-fenmere-general", "health_acute", "Fenmere General Hospital (fictional)", roles=_CALDICOTT),
    # So readers can try what probation and youth justice send: an adult who may pose a risk to children
    # (M18), and a young person's offending that puts a child at risk.
    AgencySpec("probation-fenmere", "probation", "Fenmere Probation Delivery Unit (fictional)", roles=_ROLES),
    AgencySpec("yos-fenmere", "yos", "Fenmere Youth Justice Service (fictional)", roles=_ROLES),
    AgencySpec(
        "csc-westmarsh",
        "other_la_csc",
        "Westmarsh Children's Social Care (fictional receiving authority)",
        roles=_ROLES,
    ),
    # So the demo shows a deadline that really ran out: a death notified after its 12-hour ICMD had passed.
    AgencySpec("cdop-fenmere", "cdop", "Fenmere Child Death Overview Panel (fictional)", roles=_ROLES),
]
# The children's social care IG lead and Caldicott Guardian see across the partnership (the demo's audit view).
OFFICES: dict[Office, str] = {
    "partnership_ig_lead": "csc-fenmere-mash",
    "partnership_caldicott_guardian": "csc-fenmere-mash",
}

CHILD = {"given_name": "Test", "family_name": "Child Alpha", "date_of_birth": "2017-03-14", "gender": "female"}
# The child's NHS number links every agency's notifications about them (a Case review finds them all);
# fictional: numbers beginning 999 are never issued, and this one's check digit is valid.
NHS_NUMBER = "9990000018"
# Values the demo checks never appear in plaintext on Kafka, in the log or in a receipt.
SENSITIVE = ("Child Alpha", "2017-03-14", "12 Imaginary Row", NHS_NUMBER)
NO_RISK = {
    "immediate_significant_harm": False,
    "likely_significant_harm": False,
    "serious_harm_to_adult": False,
    "risk_to_others": False,
    "crime_suspected": False,
}


def _recipient(agency: str, role: str, need: str) -> dict[str, Any]:
    return {"agency_id": agency, "role": role, "need_to_know": need}


def _base(
    message_type: str,
    purpose: str,
    basis: str | None,
    sender: tuple[str, str],
    recipients: list[dict[str, Any]],
    payload: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "message_type": message_type,
        "notification_id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC).isoformat(),
        "purpose": purpose,
        "purpose_statement": "Fictional demo: " + purpose.replace("_", " "),
        "lawful_basis": basis,
        "consent": [],
        "parental_position": None,
        "authorisation": None,
        "risk": dict(NO_RISK),
        "subjects": [{"subject_ref": "child-alpha", "role_in_case": "child", "age_years": 9, "nhs_number": NHS_NUMBER}],
        "sender": {"agency_id": sender[0], "role": sender[1], "user_ref": "demo-user-1", "is_professional": True},
        "recipients": recipients,
        "payload": payload,
        **extra,
    }


def cases() -> list[tuple[str, dict[str, Any]]]:
    """(title, notification) pairs, each drawn from a situation the source documents describe."""
    return [
        (
            "School DSL refers bruising and a disclosure (M01)",
            _base(
                "safeguarding_referral",
                "safeguarding_concern",
                "safeguarding_children_individuals_at_risk",
                ("school-oakfield-primary", "dsl"),
                [
                    _recipient("csc-fenmere-mash", "mash_intake", "assess_and_decide"),
                    _recipient("police-fenmere", "police_public_protection", "investigate_crime"),
                    _recipient("housing-brookside", "housing_officer", "provide_support"),
                ],
                {
                    "child": CHILD,
                    "concern_summary": "Fictional: bruise on forearm; child says a parent hit her.",
                    "current_location": "At school until 15:15",
                    "home_address": "12 Imaginary Row, Fenmere",
                    "referrer": {"name": "Pat Example", "job_title": "Designated Safeguarding Lead"},
                },
                consent=[
                    {
                        "subject_ref": "child-alpha",
                        "giver": "parent_pr",
                        "status": "not_sought",
                        "not_sought_reason": "risk_significant_harm",
                    }
                ],
                parental_position={
                    "parents_informed": False,
                    "parent_withheld_permission": None,
                    "reason_not_informed": "risk_significant_harm",
                },
                risk={**NO_RISK, "likely_significant_harm": True, "crime_suspected": True},
            ),
        ),
        (
            "Health visitor asks for family support; parent refuses consent, no risk (M01)",
            _base(
                "safeguarding_referral",
                "request_for_services",
                "consent",
                ("health-visiting-fenmere", "health_visitor"),
                [_recipient("csc-fenmere-mash", "mash_intake", "provide_support")],
                {
                    "child": CHILD,
                    "concern_summary": "Fictional: family struggling after a house move.",
                    "referrer": {"name": "Sam Sample", "job_title": "Health Visitor"},
                },
                consent=[{"subject_ref": "child-alpha", "giver": "parent_pr", "status": "refused"}],
                parental_position={"parents_informed": True, "parent_withheld_permission": True},
            ),
        ),
        (
            "Allegation against a teacher to the LADO (M14)",
            _base(
                "lado_allegation",
                "allegation_management",
                "legal_obligation_statutory",
                ("school-oakfield-primary", "designated_senior_manager"),
                [_recipient("lado-fenmere", "lado_officer", "assess_and_decide")],
                {
                    "person_subject_of_allegation": {"given_name": "Test", "family_name": "Teacher Delta"},
                    "job_and_setting": "Class teacher, Oakfield Primary (fictional)",
                    "allegation_account": "Fictional: pupil says the teacher sent private messages.",
                    "child": CHILD,
                    "dsm_record_signed": True,
                },
            ),
        ),
        (
            "Looked-after child missing overnight (M20)",
            _base(
                "missing_child",
                "missing_child_response",
                "public_interest",
                ("csc-fenmere-mash", "social_worker"),
                [
                    _recipient("police-fenmere", "police_public_protection", "protect_child"),
                    _recipient("gp-willow-lane", "gp", "provide_support"),
                ],
                {
                    "child": CHILD,
                    "age_band": "13-15",
                    "missing_since": "2026-11-23T21:00:00Z",
                    "physical_description": "Fictional: red coat, blue rucksack.",
                    "last_known_location": "Fenmere bus station (fictional)",
                    "looked_after": True,
                },
                risk={**NO_RISK, "likely_significant_harm": True},
            ),
        ),
        (
            "Adult at risk of financial abuse, referred by housing (M11)",
            _base(
                "adult_safeguarding_referral",
                "adult_safeguarding_enquiry",
                "safeguarding_children_individuals_at_risk",
                ("housing-brookside", "housing_officer"),
                [_recipient("asc-fenmere", "adult_safeguarding_officer", "protect_adult")],
                {
                    "adult": {"given_name": "Test", "family_name": "Adult Beta"},
                    "care_and_support_needs": "Fictional: needs help with personal care.",
                    "abuse_or_neglect": "Fictional: money taken by a relative.",
                    "unable_to_protect_self": True,
                    "address": "14 Imaginary Row, Fenmere",
                },
                subjects=[{"subject_ref": "adult-beta", "role_in_case": "adult_at_risk", "age_years": 81}],
            ),
        ),
        (
            "Police tell a pupil's school before the next school day: domestic abuse at home (M35)",
            _base(
                "domestic_abuse_school_notification",
                "school_support",
                "safeguarding_children_individuals_at_risk",
                ("police-fenmere", "police_public_protection"),
                [_recipient("school-oakfield-primary", "dsl", "provide_support")],
                {
                    "exposure": "witnessed",
                    "pupil": CHILD,
                    "incident_at": "2026-11-29T21:40:00Z",
                    "police_reference": "INC-DEMO-0042",
                    "officer_contact": {"name": "Sam Example", "job_title": "Police Constable"},
                    "incident_summary": "Fictional: shouting and a broken window; the pupil saw it.",
                    "alleged_perpetrator": "Fictional: the mother's partner.",
                    "victim_location": "Staying with a relative (fictional)",
                },
                # The school needs to know the pupil was exposed, not who or where: GR5 and C3.
                withheld_from=[{"person_ref": "partner-01", "relation": "alleged_perpetrator"}],
            ),
        ),
        (
            "Police notify a sudden unexpected infant death 13 hours after it (M19)",
            _base(
                "child_death_notification",
                "child_death_review",
                "legal_obligation_statutory",
                ("police-fenmere", "police_public_protection"),
                [_recipient("cdop-fenmere", "cdop_manager", "statutory_notification")],
                {
                    "child": {"given_name": "Test", "family_name": "Child Gamma", "gender": "male"},
                    "death_type": "sudi",
                    # The ICMD is due 12 hours after the death, not the notice: this one is late as it arrives.
                    "died_at": (datetime.now(UTC) - timedelta(hours=13)).isoformat(),
                    "circumstances": "Fictional: found unresponsive in his cot.",
                    "medical_history": "Fictional: born at term, no known conditions.",
                    "suspected_deliberate_harm": False,
                },
                subjects=[{"subject_ref": "child-gamma", "role_in_case": "child", "age_years": 0}],
            ),
        ),
    ]
