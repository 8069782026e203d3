"""The words the guided form offers for a payload's coded values where the code does not read as words.

Every other value reads from its code ("temporary_move" as "Temporary move", `words.option`). The form,
its check step and the deadlines' sentences that name a stage all read these, so a practitioner chooses
and reads the same words.
"""

from __future__ import annotations

# Each kind of agency as a sentence names it ("the Virtual School", "children's social care front door"):
# the policy pack's own words (`names`) where it has them, which a test holds these to.
AGENCY_TYPES = {
    "csc_front_door": "children's social care front door",
    "csc_team": "children's social care team",
    "other_la_csc": "another local authority's children's social care",
    "police": "police",
    "health_gp": "GP practice",
    "health_community": "community health service",
    "health_acute": "acute hospital",
    "health_mental_health": "mental health service",
    "education_school": "school",
    "education_early_years": "early years setting",
    "education_college": "college",
    "asc": "adult social care",
    "probation": "probation",
    "yos": "youth offending service",
    "housing": "housing",
    "vcs": "voluntary and community sector",
    "da_service": "domestic abuse service",
    "lado": "LADO",
    "marac": "MARAC",
    "cdop": "child death overview panel",
    "coroner": "coroner",
    "camhs": "CAMHS",
    "ambulance": "ambulance service",
    "virtual_school": "Virtual School",
    "early_help": "early help",
    "prison": "prison",
    "mappa": "MAPPA",
    "pathologist": "pathologist",
    "ofsted": "Ofsted",
    "dbs": "DBS",
    "home_office_sca_nrm": "Home Office single competent authority (NRM)",
    "ukvi_immigration": "UK Visas and Immigration",
    "channel_panel": "Channel panel",
    "cafcass": "Cafcass",
    "court": "court",
    "independent_family_returns_panel": "independent family returns panel",
    "nspcc_childline": "NSPCC Childline",
}

# Payload choices whose code does not read as words: the kinds of M17 transfer (the policy branches
# on them, and one of them, a looked-after child's placement, adds the Virtual School as a recipient).
PAYLOAD_CHOICES = {
    **AGENCY_TYPES,
    "cp_plan_transfer": "child protection plan transfer",
    "temporary_move": "temporary move",
    "s47_in_progress": "section 47 enquiry in progress",
    "cin_or_assessment": "child in need, or an assessment",
    "care_proceedings_or_order_at_home": "care proceedings, or a care order at home",
    "lac_placement_notification": "placement notice for a looked-after child",
    "health_record_transfer": "health record transfer",
    "education_record_transfer": "education record transfer",
    "s7_s37_report": "section 7 or section 37 report for the court",
    "child_on_sex_offenders_register": "child on the sex offenders register",
    # The stages whose code is an acronym or a form's name (a LADO case, a child's death).
    "amm_invitation": "invitation to the allegations management meeting (AMM)",
    "amm_record": "record of the allegations management meeting (AMM)",
    "dbs_referral": "referral to the DBS",
    "icmd_record": "record of the initial case management discussion",
    "cmd_record": "record of the case management discussion",
    "form_c": "Form C (the child death review's analysis form)",
    "post_mortem_held": "post-mortem held",
    "pm_provisional_report": "provisional post-mortem report",
    "pm_complete_report": "complete post-mortem report",
    "neonatal_predischarge": "before the baby leaves hospital (neonatal pre-discharge)",
    # A child's death by category, as the child death procedures define them.
    "sudi": "sudden unexpected death in infancy (SUDI: a baby under 12 months)",
    "sudc": "sudden unexpected death in childhood (SUDC: from 1 year to 18)",
    # Codes that read wrongly as words: acronyms, and terms of art practitioners hyphenate.
    "cpch": "a child causing harm to a parent or carer (CPCH)",
    "cpch_plan": "CPCH plan (a child causing harm to a parent or carer)",
    "standard_s47": "a section 47 enquiry (standard)",
    "child_on_child": "child-on-child abuse",
    "cp_plan": "child protection plan",
    "cin_review": "child in need plan review",
    "cin_first_review": "first review of the child in need plan",
    "nfa_info_advice_signpost": "no further action: information, advice or signposting",
    "no_decision_after_3_wd": "no decision after 3 working days",
    "not_mappa": "not managed under MAPPA",
    "prebirth_concern": "pre-birth concern",
    "youth_produced_sexual_imagery": "youth-produced sexual imagery",
}
