"""Message types of the notification catalogue and their catalogue ids (M01-M35).

Split from `schemas.vocab` (which re-exports both) so the closed vocabularies stay one readable
module; every value is a wire value the policies match on.
"""

from __future__ import annotations

from enum import StrEnum


class MessageType(StrEnum):
    """Notification types; the catalogue id is in `CATALOGUE_IDS`."""

    SAFEGUARDING_REFERRAL = "safeguarding_referral"
    REFERRAL_ACKNOWLEDGEMENT = "referral_acknowledgement"
    REFERRAL_OUTCOME = "referral_outcome"
    STRATEGY_DISCUSSION_REQUEST = "strategy_discussion_request"
    ADULT_SAFEGUARDING_REFERRAL = "adult_safeguarding_referral"
    MARAC_REFERRAL = "marac_referral"
    LADO_ALLEGATION = "lado_allegation"
    DVDS_DISCLOSURE = "dvds_disclosure"
    CSOD_DISCLOSURE = "csod_disclosure"
    CHILD_MOVE_TRANSFER = "child_move_transfer"
    CHILD_DEATH_NOTIFICATION = "child_death_notification"
    MISSING_CHILD = "missing_child"
    CHILD_ON_CHILD_HARM_REFERRAL = "child_on_child_harm_referral"
    ADULT_RISK_INFORMATION = "adult_risk_information"
    DOMESTIC_ABUSE_SCHOOL_NOTIFICATION = "domestic_abuse_school_notification"
    ADVICE_REQUEST = "advice_request"
    EARLY_HELP_ASSESSMENT_SHARE = "early_help_assessment_share"
    HOSPITAL_DISCHARGE_HOLD = "hospital_discharge_hold"
    OSMAN_WARNING_REFERRAL = "osman_warning_referral"
    TRANSITION_TO_ADULT_SERVICES = "transition_to_adult_services"
    NRM_REFERRAL = "nrm_referral"
    RADICALISATION_CONCERN = "radicalisation_concern"
    OFFENDER_RISK_INFORMATION = "offender_risk_information"
    POLICE_PROTECTION_NOTICE = "police_protection_notice"
    ADDITIONAL_INFORMATION = "additional_information"
    CRIME_NOTIFICATION = "crime_notification"
    S47_ENQUIRY = "s47_enquiry"
    CP_CONFERENCE = "cp_conference"
    ASSESSMENT_OUTCOME = "assessment_outcome"
    PLAN_REVIEW_NOTICE = "plan_review_notice"
    PREBIRTH_CONCERN = "prebirth_concern"
    CASE_CLOSURE_NOTICE = "case_closure_notice"
    DOG_INJURY_REFERRAL = "dog_injury_referral"
    PROFESSIONAL_DISAGREEMENT = "professional_disagreement"
    SUICIDE_RESPONSE = "suicide_response"


CATALOGUE_IDS: dict[MessageType, str] = {
    MessageType.SAFEGUARDING_REFERRAL: "M01",
    MessageType.REFERRAL_ACKNOWLEDGEMENT: "M02",
    MessageType.REFERRAL_OUTCOME: "M03",
    MessageType.STRATEGY_DISCUSSION_REQUEST: "M06",
    MessageType.ADULT_SAFEGUARDING_REFERRAL: "M11",
    MessageType.MARAC_REFERRAL: "M13",
    MessageType.LADO_ALLEGATION: "M14",
    MessageType.DVDS_DISCLOSURE: "M15",
    MessageType.CSOD_DISCLOSURE: "M16",
    MessageType.CHILD_MOVE_TRANSFER: "M17",
    MessageType.CHILD_DEATH_NOTIFICATION: "M19",
    MessageType.MISSING_CHILD: "M20",
    MessageType.CHILD_ON_CHILD_HARM_REFERRAL: "M29",
    MessageType.ADULT_RISK_INFORMATION: "M18",
    # Not in the seed catalogue M01-M34: a partnership addition (police tell a pupil's school).
    MessageType.DOMESTIC_ABUSE_SCHOOL_NOTIFICATION: "M35",
    MessageType.ADVICE_REQUEST: "M32",
    MessageType.EARLY_HELP_ASSESSMENT_SHARE: "M26",
    MessageType.HOSPITAL_DISCHARGE_HOLD: "M24",
    MessageType.OSMAN_WARNING_REFERRAL: "M23",
    MessageType.TRANSITION_TO_ADULT_SERVICES: "M12",
    MessageType.NRM_REFERRAL: "M21",
    MessageType.RADICALISATION_CONCERN: "M22",
    MessageType.OFFENDER_RISK_INFORMATION: "M31",
    MessageType.POLICE_PROTECTION_NOTICE: "M25",
    # Pairs of the seed catalogue are one type each, told apart by the payload's `stage`:
    # M07 notice/outcome, M08 invitation/report, M27 pre-birth/pre-discharge, M30 injury/prohibited
    # dog, M34 serious attempt/death.
    MessageType.ADDITIONAL_INFORMATION: "M04",
    MessageType.CRIME_NOTIFICATION: "M05",
    MessageType.S47_ENQUIRY: "M07",
    MessageType.CP_CONFERENCE: "M08",
    MessageType.ASSESSMENT_OUTCOME: "M09",
    MessageType.PLAN_REVIEW_NOTICE: "M10",
    MessageType.PREBIRTH_CONCERN: "M27",
    MessageType.CASE_CLOSURE_NOTICE: "M28",
    MessageType.DOG_INJURY_REFERRAL: "M30",
    MessageType.PROFESSIONAL_DISAGREEMENT: "M33",
    MessageType.SUICIDE_RESPONSE: "M34",
}
