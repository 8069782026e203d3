"""How the UI says codes and times to a person: local time with its zone, data classes in words.

The log keeps UTC (canonical, comparable); a practitioner in England reads Europe/London time, and
the zone is always shown because an hour either side of the clocks changing reads the same otherwise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from broker.ui.payload_words import AGENCY_TYPES
from broker.ui.payload_words import PAYLOAD_CHOICES as PAYLOAD_CHOICES  # the form's words for coded values
from schemas.message_types import CATALOGUE_IDS, MessageType

LOCAL_ZONE = ZoneInfo("Europe/London")

# Each data class as a practitioner would name it (UK GDPR's terms where it has them: "special
# category", "criminal offence data"). A class added to the vocabulary later reads from its code.
DATA_CLASSES = {
    "identity": "identity",
    "third_party_identity": "other people's identity",
    "contact_address": "contact details and address",
    "location_safety": "safety-sensitive whereabouts",
    "sc_ethnicity": "special category (ethnicity)",
    "sc_religion": "special category (religion)",
    "sc_health": "special category (health)",
    "sc_sex_life": "special category (sex life or sexual orientation)",
    "criminal_allegation": "criminal offence data (allegation)",
    "criminal_conviction": "criminal offence data (conviction)",
    "criminal_intelligence": "criminal offence data (intelligence)",
    "da_info": "domestic abuse information",
    "immigration": "immigration status",
    "referrer_identity_nonpro": "referrer's identity (member of the public)",
    "referrer_identity_pro": "referrer's identity (professional)",
    "consent_meta": "consent record",
    "staff_safety": "staff safety",
    "court_material": "court material",
    "coronial_material": "coroner's material",
    "opinion": "professional opinion",
    "concern_narrative": "account of the concern",
    "case_history": "case history",
    "case_status": "case status",
    "service_use": "services used",
    "views_wishes": "views and wishes",
    "risk_assessment": "risk assessment",
    "access_need": "access needs",
    "case_admin": "case administration",
}
_SPECIAL = ("sc_", "special_category_")

# Where a decision stands now (`broker.review.views.states_now`), as a reviewer would say it.
STATES = {
    "held": "held, waiting for an answer",
    "released": "released",
    "refused": "refused",
    "expired": "expired unanswered",
    "review_due": "shared; its review after is due",
    "reviewed": "reviewed after sharing",
    "reviewed_upheld": "reviewed after sharing: upheld, it was right to share it at once",
    "reviewed_not_upheld": "reviewed after sharing: not upheld, so to be withdrawn from this recipient",
    "withdrawn": "withdrawn; the agency it reached was told to delete it",
    "withdrawn_confirmed": "withdrawn; the agency it reached has confirmed it deleted it",
    "withdrawn_by_recipient": "withdrawn by the agency that received it, from its own inbox; any other keeps its copy",
    # A decision's page (`detail.state_line`) and "Recently answered" say these: no agency received it.
    "withdrawn_held": "withdrawn before it was released: no agency received it",
    "withdrawn_unshared": "withdrawn; it was not shared, so no agency received it",
    "corrected": "replaced by a correction",
    "shredded": "shredded with its case",
}

# Each action of the access table (broker.review.access.Action), as a refusal names what was refused.
ACTIONS = {
    "send": "send notifications",
    "status": "read a notification's status",
    "decisions": "read decisions",
    "overdue": "read overdue deadlines",
    "answer_advice": "answer requests for advice",
    "authorise": "authorise held shares",
    "review_urgent": "review urgent shares",
    "access_log": "read the access log",
    "audit": "audit the partnership's decision log (its totals, evidence packs and policy replays)",
    "case_review": "review a case",
    "redeliver": "ask for a delivery again",
    "withdraw": "withdraw or correct notifications",
    "shred": "shred a case",
}

# What happened to a delivery, as its history lists it, where the log's code reads wrongly as words: a
# recipient's consumer confirms it removed a delivery whether it was withdrawn or replaced by a correction.
EVENTS = {
    "withdrawal_confirmed": "removal confirmed by the recipient",
    "erasure_confirmed": "erasure confirmed by the recipient",
    "notice_published": "notice sent to the recipient",
}


# Where a clock a decision started stands (`broker.review.timescales`), each read before its time.
CLOCK_STATES = {
    "running": "Running",
    "overdue": "Overdue since",
    "met": "Met on",
    "met_late": "Met late, on",
    "withdrawn": "Stopped unanswered, the message withdrawn, on",
    "shredded": "Stopped unanswered, the case shredded, on",
    "superseded": "Stopped unanswered, the event's time corrected, on",
    "overdue_ahead": "Not due yet: marked overdue by a check run for a later date",  # a worker clock run ahead
}

# Each reason a case may be shredded for, as the reviewer chooses it (schemas.case_api.CaseShreddingRequest).
SHRED_REASONS = {
    "sent_in_error": "Sent in error: about the wrong child, or never meant to be sent",
    "malicious": "Malicious: a notification made to harm the person",
    "court_order": "Court order: a court ordered the records destroyed",
    "erasure_upheld": "Erasure upheld: the person's request to erase them (UK GDPR Article 17) was upheld",
    "retention_ended": "Retention ended early: the partnership's retention for the case ran out (e.g. it closed)",
}


# Why a sender withdraws, as its page offers it (`superseded` is a correction's; `not_upheld` an urgent share's).
WITHDRAWAL_REASONS = {
    "sent_in_error": "Sent in error: to the wrong agency, or never meant to be sent",
    "wrong_person": "About the wrong person",
    "malicious": "Malicious: made to harm the person it is about",
    "factually_wrong": "Factually wrong (send it again with the facts as they are)",
    "not_upheld": "Not upheld on review: an urgent share that should not have gone to this recipient",
}

# What a withdrawal did to each recipient's delivery (`broker.review.withdrawal.Recalled.now`).
RECALLED = {
    "notice sent": "sent a signed notice to delete what it received",
    "destroyed": "its held share destroyed, never sent",
    "nothing to recall": "nothing had been shared with it",
}

# Each declared lawful basis as the law names it (the condition's title in DPA 2018, the Act's
# section), so a reviewer reads the basis rather than its code.
LAWFUL_BASES = {
    "consent": "consent",
    "safeguarding_children_individuals_at_risk": "safeguarding of children and individuals at risk (DPA 2018)",
    "public_interest": "overriding public interest",
    "legal_obligation_statutory": "legal obligation (statutory duty)",
    "crime_prevention_s115_cda1998": "crime prevention (Crime and Disorder Act 1998, s115)",
    "court_order": "court order",
    "police_common_law_power": "police common law power",
    "unsure": "unsure: advice asked",
}

# Which way a finding points (the policy's `effect`), where the page has it: the check page before sending.
EFFECTS = {
    "share": "in favour of sharing",
    "no_share": "against sharing",
    "hold_for_authorisation": "for holding it until authorised",
    "needs_advice": "for asking an adviser first",
    "withhold_fields": "for leaving some fields out",
    "urgent_override": "for sending at once and reviewing after",
    "record": "a record of the decision",
}

# Consent states as the person recording them said them; the decisions filter offers these same words.
CONSENT_STATES = {
    "given_explicit": "given (explicit)",
    "refused": "refused",
    "not_sought": "not sought",
    "withdrawn": "withdrawn",
    "not_required": "not required",
    "not_applicable": "not applicable",
    "unsure": "unsure",
    "not_recorded": "none recorded, so taken as not sought",  # as GR4 reads it, beside it
}

# The exceptions to seeking consent or telling the parents (E1-E10 of the procedures), as sentences.
CONSENT_EXCEPTIONS = {
    "risk_significant_harm": "it would put the child at risk of significant harm",
    "unreasonable_delay": "it would cause an unreasonable delay",
    "loss_of_evidence": "evidence could be lost",
    "risk_to_others_or_immediate_harm": "someone else is at risk, or harm is immediate",
    "prejudice_crime": "it would prejudice the prevention or detection of a crime",
    "cannot_consent": "the person cannot consent",
    "not_reasonable_to_obtain": "it is not reasonable to ask",
    "serious_harm_young_person_urgent": "a young person faces serious harm and it is urgent",
    "not_required_by_regime": "the statutory scheme does not require it",
    "disclosure_increases_risk_radicalisation": "telling them would increase the risk of radicalisation",
}
# The same exceptions where the notification is about an adult (`form_subject.about_adult`): the code
# sent is the same (E1), the harm is the person's own, and serious harm is what an adult is protected from.
ADULT_CONSENT_EXCEPTIONS = {
    **CONSENT_EXCEPTIONS,
    "risk_significant_harm": "it would put the person at risk of serious harm",
    "serious_harm_young_person_urgent": "the person faces serious harm and it is urgent",
}

SUBJECT_ROLES = {
    "child": "child",
    "unborn_child": "unborn child",
    "deceased_child": "child who has died",
    "sibling": "brother or sister",
    "parent_pr": "parent, or someone with parental responsibility",
    "carer": "carer",
    "household_member": "member of the household",
    "alleged_perpetrator": "person alleged to have caused harm",
    "adult_victim": "adult victim",
    "adult_at_risk": "adult at risk",
    "person_in_position_of_trust": "person in a position of trust",
}

# Roles as people and the header name them: a person's office, an authoriser, a sender's role. A
# role missing here reads from its code.
ROLES = {
    "dsl": "Designated Safeguarding Lead",
    "ig_lead": "Information Governance lead",
    "caldicott_guardian": "Caldicott Guardian",
    "line_manager": "line manager",
    "csc_manager": "children's social care manager",
    "senior_manager": "senior manager",
    "designated_senior_manager": "designated senior manager",
    "named_professional": "named professional",
    "designated_professional": "designated professional",
    "police_senior_officer": "senior police officer",
    "police_public_protection": "police public protection unit",
    "police_disclosure_unit": "police disclosure unit",
    "mash_intake": "MASH intake",
    "edt": "emergency duty team",
    "gp": "GP",
    "yos_officer": "youth offending service officer",
    "da_caseworker": "domestic abuse caseworker",
    "lado_officer": "LADO officer",
    "marac_coordinator": "MARAC coordinator",
    "cdop_manager": "child death overview panel manager",
    "coroners_officer": "coroner's officer",
    "camhs_clinician": "CAMHS clinician",
    "virtual_school_head": "Virtual School Head",
    "practitioner": "practitioner",
    "agency_system": "agency system",
}


# Whose a consent record is, as a decision's page names it ("Given by ...", "Refused by ...").
CONSENT_GIVERS = {
    "parent_pr": "a parent or carer with parental responsibility",
    "child": "the young person themselves",
    "adult_subject": "the adult the concern is about",
    "referrer": "the referrer, to being named",
}


def consent_code(value: str | None) -> str | None:
    """A consent filter as typed or linked: the code, or the words the pages show for it ("not sought")."""
    if not value:
        return None
    said = value.strip().lower()
    for code, words in CONSENT_STATES.items():
        if said in (code, words, code.replace("_", " ")):
            return code
    return said


def sentence(text: str) -> str:
    """Words standing alone: the first letter up, the rest as written (a name's capitals kept)."""
    return text[:1].upper() + text[1:]


def option(code: str, table: dict[str, str]) -> str:
    """A code as a form offers it: its words from `table`, first letter up ("Not sought")."""
    return sentence(table.get(code) or code.replace("_", " "))


# Message types whose code does not read as their name: acronyms and terms of art as practitioners
# write them ("LADO allegation", not "Lado allegation"), and the notices whose code alone is not a
# thing one sends ("Missing child notice"). Every other type reads from its code. The policy's own
# messages use the same names (the pack's `names`, `policies/safeguarding/config/data.json`); a
# test holds the two together.
TYPE_NAMES = {
    "s47_enquiry": "Section 47 enquiry",
    "cp_conference": "Child protection conference",
    "marac_referral": "MARAC referral",
    "lado_allegation": "LADO allegation",
    "dvds_disclosure": "DVDS disclosure",
    "csod_disclosure": "CSOD disclosure",
    "nrm_referral": "NRM referral",
    "osman_warning_referral": "Osman warning referral",
    "prebirth_concern": "Pre-birth concern",
    "additional_information": "Additional information notice",
    "transition_to_adult_services": "Transition referral to adult services",
    "adult_risk_information": "Adult risk information notice",
    "missing_child": "Missing child notice",
    "offender_risk_information": "Offender risk information notice",
}

# Purposes whose code does not read as their name, as the policy's messages name them (the pack's
# `names`; a test holds the two together): every other purpose reads from its code.
PURPOSE_NAMES = {
    "marac_risk_management": "MARAC risk management",
    "national_referral_mechanism": "National Referral Mechanism",
}


def agency_type(code: str) -> str:
    """`virtual_school` as `Virtual School`: an agency type as a sentence names it."""
    return AGENCY_TYPES.get(code, code.replace("_", " "))


def type_name(code: str | None) -> str:
    """`lado_allegation` as `LADO allegation`: the name alone, as a chart label or a sentence uses it."""
    if not code:
        return "—"
    return TYPE_NAMES.get(code, code.replace("_", " ").capitalize())


def message_type(code: str | None) -> str:
    """`safeguarding_referral` as `Safeguarding referral (M01)`: the words first, the catalogue id to look up."""
    if not code:
        return "—"
    words = type_name(code)
    try:
        return f"{words} ({CATALOGUE_IDS[MessageType(code)]})"
    except (KeyError, ValueError):
        return words


def data_class(code: str | None) -> str:
    if not code:
        return "—"
    if code in DATA_CLASSES:
        return DATA_CLASSES[code]
    for prefix in _SPECIAL:
        if code.startswith(prefix):
            return f"special category ({code.removeprefix(prefix).replace('_', ' ')})"
    return code.replace("_", " ")


def local_time(value: str | datetime | None) -> str:
    """`2026-06-01T08:05:00Z` as `1 Jun 2026, 09:05 BST`; a naive time is the log's UTC."""
    if value is None or value == "":
        return "—"
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return str(value)  # shown as recorded rather than hidden
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    here = moment.astimezone(LOCAL_ZONE)
    return f"{here.day} {here:%b %Y, %H:%M %Z}"


def is_past(value: str | datetime | None) -> bool:
    """Whether a time the log or a clock gave (ISO 8601, or a clock's own; naive is UTC) has gone by."""
    if not value:
        return False
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) <= datetime.now(UTC)


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def time_left(value: str | None, now: datetime | None = None) -> str:
    """How long until a due time, as a reader counts it: `2 days 4 hours left`, `35 minutes left`.

    Wall-clock time (a working-day clock's due time already skips the weekend), rounded down, so it
    never promises more time than there is; past the due time, `no time left`.
    """
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if seconds <= 0:
        return "no time left"
    minutes = int(seconds // 60)
    if minutes == 0:
        return "less than a minute left"
    days, hours = divmod(minutes // 60, 24)
    if days:
        return f"{_plural(days, 'day')}{' ' + _plural(hours, 'hour') if hours else ''} left"
    if hours:
        return f"{_plural(hours, 'hour')}{' ' + _plural(minutes % 60, 'minute') if minutes % 60 else ''} left"
    return f"{_plural(minutes, 'minute')} left"


def local_month(value: str) -> str:
    """`2026-05-31T23:30:00.000000Z` as `2026-06`: the London month a logged UTC time falls in."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(LOCAL_ZONE).strftime("%Y-%m")


def month_words(month: str) -> str:
    """`2026-06` (local_month's key, which sorts) as a person writes it: `June 2026`."""
    year, number = month.split("-")
    return date(int(year), int(number), 1).strftime("%B %Y")


def local_day_start(day: date) -> datetime:
    """Midnight starting `day` in London, as an aware time (what a person means by a date filter)."""
    return datetime.combine(day, time(), tzinfo=LOCAL_ZONE)


def local_day_end(day: date) -> datetime:
    return local_day_start(day + timedelta(days=1))
