"""Closed vocabularies of the notification schemas and the policy contract.

Every value here is a wire value: a notification carrying anything else is refused (422), and the
policies in `policies/safeguarding/` match on these exact strings. Values are this project's
vocabulary; where one rests on a source document, its docstring cites it (policies/SOURCES.md).
"""

from __future__ import annotations

from enum import StrEnum

# Re-exported: the message types live in their own module (the catalogue grows there).
from schemas.message_types import CATALOGUE_IDS as CATALOGUE_IDS
from schemas.message_types import MessageType as MessageType


class Purpose(StrEnum):
    """Why information is shared (C1). `request_for_services` always needs consent.

    Source: CPSCP-Procedures, Threshold policy > Parental Consent.
    """

    SAFEGUARDING_CONCERN = "safeguarding_concern"
    REQUEST_FOR_SERVICES = "request_for_services"
    REFERRAL_FEEDBACK = "referral_feedback"
    STRATEGY_DISCUSSION = "strategy_discussion"
    ADULT_SAFEGUARDING_ENQUIRY = "adult_safeguarding_enquiry"
    MARAC_RISK_MANAGEMENT = "marac_risk_management"
    ALLEGATION_MANAGEMENT = "allegation_management"
    DISCLOSURE_DECISION = "disclosure_decision"
    TRANSFER_OF_RESPONSIBILITY = "transfer_of_responsibility"
    CHILD_DEATH_REVIEW = "child_death_review"
    MISSING_CHILD_RESPONSE = "missing_child_response"
    PARTNERSHIP_MONITORING = "partnership_monitoring"
    SCHOOL_SUPPORT = "school_support"
    SEEK_ADVICE = "seek_advice"
    TRANSITION_PLANNING = "transition_planning"
    NATIONAL_REFERRAL_MECHANISM = "national_referral_mechanism"
    CRIME_INVESTIGATION = "crime_investigation"
    CHILD_PROTECTION_ENQUIRY = "child_protection_enquiry"
    CHILD_PROTECTION_CONFERENCE = "child_protection_conference"
    CASE_PLANNING = "case_planning"
    PROFESSIONAL_ESCALATION = "professional_escalation"


class LawfulBasis(StrEnum):
    """Declared basis for sharing (GR1, GR4). `unsure` routes to advice."""

    CONSENT = "consent"
    SAFEGUARDING_CHILDREN_INDIVIDUALS_AT_RISK = "safeguarding_children_individuals_at_risk"
    PUBLIC_INTEREST = "public_interest"
    LEGAL_OBLIGATION_STATUTORY = "legal_obligation_statutory"
    CRIME_PREVENTION_S115_CDA1998 = "crime_prevention_s115_cda1998"
    COURT_ORDER = "court_order"
    POLICE_COMMON_LAW_POWER = "police_common_law_power"
    UNSURE = "unsure"


class ConsentStatus(StrEnum):
    GIVEN_EXPLICIT = "given_explicit"
    REFUSED = "refused"
    NOT_SOUGHT = "not_sought"
    WITHDRAWN = "withdrawn"
    NOT_REQUIRED = "not_required"
    NOT_APPLICABLE = "not_applicable"
    UNSURE = "unsure"


class ConsentGiver(StrEnum):
    PARENT_PR = "parent_pr"
    CHILD = "child"
    ADULT_SUBJECT = "adult_subject"
    REFERRER = "referrer"


class ConsentException(StrEnum):
    """Why consent was not sought or parents not told: codes E1..E10, in order."""

    RISK_SIGNIFICANT_HARM = "risk_significant_harm"  # E1
    UNREASONABLE_DELAY = "unreasonable_delay"  # E2
    LOSS_OF_EVIDENCE = "loss_of_evidence"  # E3
    RISK_TO_OTHERS_OR_IMMEDIATE_HARM = "risk_to_others_or_immediate_harm"  # E4
    PREJUDICE_CRIME = "prejudice_crime"  # E5
    CANNOT_CONSENT = "cannot_consent"  # E6
    NOT_REASONABLE_TO_OBTAIN = "not_reasonable_to_obtain"  # E7
    SERIOUS_HARM_YOUNG_PERSON_URGENT = "serious_harm_young_person_urgent"  # E8
    NOT_REQUIRED_BY_REGIME = "not_required_by_regime"  # E9
    DISCLOSURE_INCREASES_RISK_RADICALISATION = "disclosure_increases_risk_radicalisation"  # E10


class Assessed(StrEnum):
    """Gillick competence or mental capacity for the decision."""

    YES = "yes"
    NO = "no"
    NOT_ASSESSED = "not_assessed"


class SubjectRole(StrEnum):
    CHILD = "child"
    UNBORN_CHILD = "unborn_child"
    DECEASED_CHILD = "deceased_child"
    SIBLING = "sibling"
    PARENT_PR = "parent_pr"
    CARER = "carer"
    HOUSEHOLD_MEMBER = "household_member"
    ALLEGED_PERPETRATOR = "alleged_perpetrator"
    ADULT_VICTIM = "adult_victim"
    ADULT_AT_RISK = "adult_at_risk"
    PERSON_IN_POSITION_OF_TRUST = "person_in_position_of_trust"


class AgencyType(StrEnum):
    """Registry agency types (grouped); `data.registry.agencies[*].type`."""

    CSC_FRONT_DOOR = "csc_front_door"
    CSC_TEAM = "csc_team"
    OTHER_LA_CSC = "other_la_csc"
    POLICE = "police"
    HEALTH_GP = "health_gp"
    HEALTH_COMMUNITY = "health_community"
    HEALTH_ACUTE = "health_acute"
    HEALTH_MENTAL_HEALTH = "health_mental_health"
    EDUCATION_SCHOOL = "education_school"
    EDUCATION_EARLY_YEARS = "education_early_years"
    ASC = "asc"
    PROBATION = "probation"
    YOS = "yos"
    HOUSING = "housing"
    VCS = "vcs"
    DA_SERVICE = "da_service"
    LADO = "lado"
    MARAC = "marac"
    CDOP = "cdop"
    CORONER = "coroner"
    CAMHS = "camhs"
    AMBULANCE = "ambulance"
    EDUCATION_COLLEGE = "education_college"
    VIRTUAL_SCHOOL = "virtual_school"
    EARLY_HELP = "early_help"
    PRISON = "prison"
    MAPPA = "mappa"
    PATHOLOGIST = "pathologist"
    OFSTED = "ofsted"
    DBS = "dbs"
    HOME_OFFICE_SCA_NRM = "home_office_sca_nrm"
    UKVI_IMMIGRATION = "ukvi_immigration"
    CHANNEL_PANEL = "channel_panel"
    CAFCASS = "cafcass"
    COURT = "court"
    INDEPENDENT_FAMILY_RETURNS_PANEL = "independent_family_returns_panel"
    NSPCC_CHILDLINE = "nspcc_childline"


class AgencyRole(StrEnum):
    """A role inside an agency: recipients are role queues, never general inboxes (C4)."""

    DSL = "dsl"
    DESIGNATED_SENIOR_MANAGER = "designated_senior_manager"
    MASH_INTAKE = "mash_intake"
    EDT = "edt"
    SOCIAL_WORKER = "social_worker"
    TEAM_MANAGER = "team_manager"
    POLICE_PUBLIC_PROTECTION = "police_public_protection"
    POLICE_DISCLOSURE_UNIT = "police_disclosure_unit"
    GP = "gp"
    HEALTH_VISITOR = "health_visitor"
    SCHOOL_NURSE = "school_nurse"
    NAMED_PROFESSIONAL = "named_professional"
    DESIGNATED_PROFESSIONAL = "designated_professional"
    ADULT_SAFEGUARDING_OFFICER = "adult_safeguarding_officer"
    PROBATION_OFFICER = "probation_officer"
    YOS_OFFICER = "yos_officer"
    HOUSING_OFFICER = "housing_officer"
    SAFEGUARDING_LEAD = "safeguarding_lead"
    DA_CASEWORKER = "da_caseworker"
    LADO_OFFICER = "lado_officer"
    MARAC_COORDINATOR = "marac_coordinator"
    CDOP_MANAGER = "cdop_manager"
    CORONERS_OFFICER = "coroners_officer"
    IG_LEAD = "ig_lead"
    CALDICOTT_GUARDIAN = "caldicott_guardian"
    MIDWIFE = "midwife"
    CAMHS_CLINICIAN = "camhs_clinician"
    AMBULANCE_CLINICIAN = "ambulance_clinician"
    VIRTUAL_SCHOOL_HEAD = "virtual_school_head"
    LEAD_PROFESSIONAL = "lead_professional"
    EARLY_HELP_PRACTITIONER = "early_help_practitioner"
    TRANSITIONS_WORKER = "transitions_worker"
    PRISON_OFFENDER_MANAGER = "prison_offender_manager"
    MAPPA_COORDINATOR = "mappa_coordinator"
    PATHOLOGIST = "pathologist"
    REGULATORY_INSPECTOR = "regulatory_inspector"
    DBS_CASEWORKER = "dbs_caseworker"
    NRM_DECISION_MAKER = "nrm_decision_maker"
    IMMIGRATION_OFFICER = "immigration_officer"
    CHANNEL_COORDINATOR = "channel_coordinator"
    FAMILY_COURT_ADVISER = "family_court_adviser"
    COURT_OFFICER = "court_officer"
    RETURNS_PANEL_MEMBER = "returns_panel_member"
    HELPLINE_PRACTITIONER = "helpline_practitioner"


class AuthoriserRole(StrEnum):
    """Who may authorise sharing without consent or sign off an outcome."""

    LINE_MANAGER = "line_manager"
    CSC_MANAGER = "csc_manager"
    DSL = "dsl"
    NAMED_PROFESSIONAL = "named_professional"
    DESIGNATED_PROFESSIONAL = "designated_professional"
    SENIOR_MANAGER = "senior_manager"
    CALDICOTT_GUARDIAN = "caldicott_guardian"
    IG_LEAD = "ig_lead"
    POLICE_SENIOR_OFFICER = "police_senior_officer"


class NeedToKnow(StrEnum):
    """Coded need-to-know reason for one recipient (C4, GR6)."""

    ASSESS_AND_DECIDE = "assess_and_decide"
    INVESTIGATE_CRIME = "investigate_crime"
    PROTECT_CHILD = "protect_child"
    PROTECT_ADULT = "protect_adult"
    PROVIDE_SUPPORT = "provide_support"
    COORDINATE_PLAN = "coordinate_plan"
    STATUTORY_NOTIFICATION = "statutory_notification"
    TRANSFER_CASE = "transfer_case"
    FEEDBACK_TO_REFERRER = "feedback_to_referrer"
    ATTEND_MEETING = "attend_meeting"


class ThresholdLevel(StrEnum):
    """Levels of need [CPSCP-Procedures, Threshold policy]."""

    UNIVERSAL = "universal"
    EMERGING = "emerging"
    COMPLEX = "complex"
    SPECIALIST_SAFEGUARDING = "specialist_safeguarding"


class ConcernTag(StrEnum):
    """Harm and vulnerability tags the rules react to."""

    PHYSICAL_ABUSE = "physical_abuse"
    EMOTIONAL_ABUSE = "emotional_abuse"
    SEXUAL_ABUSE = "sexual_abuse"
    NEGLECT = "neglect"
    DOMESTIC_ABUSE = "domestic_abuse"
    FORCED_MARRIAGE = "forced_marriage"
    HONOUR_BASED_VIOLENCE = "honour_based_violence"
    TRAFFICKING_MODERN_SLAVERY = "trafficking_modern_slavery"
    CSE = "cse"
    CCE = "cce"
    FGM = "fgm"
    RADICALISATION = "radicalisation"
    CPCH = "cpch"
    CHILD_ON_CHILD = "child_on_child"
    SEXUAL_ACTIVITY_UNDER_13 = "sexual_activity_under_13"
    SELF_HARM = "self_harm"
    UNCONVICTED_ADULT_RISK = "unconvicted_adult_risk"
    HOSTILE_FAMILY = "hostile_family"
    PARENTAL_MENTAL_ILL_HEALTH = "parental_mental_ill_health"
    PARENTAL_SUBSTANCE_MISUSE = "parental_substance_misuse"
    UNACCOMPANIED_CHILD = "unaccompanied_child"


class ContactMode(StrEnum):
    """How the concern first reached the recipient; a phone referral is confirmed in writing in 24 h."""

    WRITTEN = "written"
    PHONE = "phone"
    IN_PERSON = "in_person"


class DataClass(StrEnum):
    """Sensitivity class of one payload field."""

    IDENTITY = "identity"
    THIRD_PARTY_IDENTITY = "third_party_identity"
    CONTACT_ADDRESS = "contact_address"
    LOCATION_SAFETY = "location_safety"
    SC_ETHNICITY = "sc_ethnicity"
    SC_RELIGION = "sc_religion"
    SC_HEALTH = "sc_health"
    SC_SEX_LIFE = "sc_sex_life"
    CRIMINAL_ALLEGATION = "criminal_allegation"
    CRIMINAL_CONVICTION = "criminal_conviction"
    CRIMINAL_INTELLIGENCE = "criminal_intelligence"
    DA_INFO = "da_info"
    IMMIGRATION = "immigration"
    REFERRER_IDENTITY_NONPRO = "referrer_identity_nonpro"
    REFERRER_IDENTITY_PRO = "referrer_identity_pro"
    CONSENT_META = "consent_meta"
    STAFF_SAFETY = "staff_safety"
    COURT_MATERIAL = "court_material"
    CORONIAL_MATERIAL = "coronial_material"
    OPINION = "opinion"
    CONCERN_NARRATIVE = "concern_narrative"
    CASE_HISTORY = "case_history"
    CASE_STATUS = "case_status"
    SERVICE_USE = "service_use"
    VIEWS_WISHES = "views_wishes"
    RISK_ASSESSMENT = "risk_assessment"
    ACCESS_NEED = "access_need"
    CASE_ADMIN = "case_admin"


class Outcome(StrEnum):
    """Per-recipient decision outcomes."""

    SHARE = "share"
    SHARE_MINIMISED = "share_minimised"
    SHARE_URGENT_REVIEW_AFTER = "share_urgent_review_after"
    HOLD_FOR_AUTHORISATION = "hold_for_authorisation"
    NEEDS_ADVICE = "needs_advice"
    NO_SHARE = "no_share"


# Outcomes whose projection is sealed now and published; outcomes whose projection is sealed and
# held until a reviewer releases it.
SHARED_OUTCOMES = frozenset({Outcome.SHARE, Outcome.SHARE_MINIMISED, Outcome.SHARE_URGENT_REVIEW_AFTER})
HELD_OUTCOMES = frozenset({Outcome.HOLD_FOR_AUTHORISATION, Outcome.NEEDS_ADVICE})


class DueUnit(StrEnum):
    WORKING_DAYS = "working_days"
    HOURS = "hours"
    DAYS = "days"
    # Before the start of the Nth next school day (working days less the partnership's school holidays).
    SCHOOL_DAYS = "school_days"
    # "Within N days" where the source does not say whether working days are meant (T11, T12): the
    # partnership's setting (SGB_UNCLEAR_DAYS_UNIT) decides, so it must reach the clock as this.
    UNCLEAR_DAYS = "unclear_days"


class ReasonEffect(StrEnum):
    """What one reason did to a recipient's decision (for reviewers and the scenario checks)."""

    SHARE = "share"  # the rule supports sharing
    NO_SHARE = "no_share"
    HOLD_FOR_AUTHORISATION = "hold_for_authorisation"
    NEEDS_ADVICE = "needs_advice"
    WITHHOLD_FIELDS = "withhold_fields"  # the rule removed fields from this recipient's copy
    URGENT_OVERRIDE = "urgent_override"  # risk of harm: sent now, reviewed afterwards (I14, C7)
    RECORD = "record"  # GR7: the decision is logged
