"""Payloads of case events: M17 child moving between local authorities, M19 child death,
M20 missing child. Sources are cited as `KEY, Chapter > Section` (keys in policies/SOURCES.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar

from pydantic import model_validator

from schemas.fields import LONG_TEXT, SHORT_TEXT, PayloadModel, PersonIdentity, classed
from schemas.locations import misplaced, stage_fields_missing
from schemas.vocab import DataClass as D


class TransferType(StrEnum):
    """Sub-types of the M17 transfer protocol.

    Source: CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local
    Authority's Area to Another.
    """

    CP_PLAN_TRANSFER = "cp_plan_transfer"
    TEMPORARY_MOVE = "temporary_move"
    S47_IN_PROGRESS = "s47_in_progress"
    CIN_OR_ASSESSMENT = "cin_or_assessment"
    CARE_PROCEEDINGS_OR_ORDER_AT_HOME = "care_proceedings_or_order_at_home"
    LAC_PLACEMENT_NOTIFICATION = "lac_placement_notification"
    HEALTH_RECORD_TRANSFER = "health_record_transfer"
    EDUCATION_RECORD_TRANSFER = "education_record_transfer"
    # > Reporting Under Section 7 and Section 37: the authority the court directed completes it.
    S7_S37_REPORT = "s7_s37_report"
    # > Child on the Sex Offenders Register: covered by public protection arrangements.
    CHILD_ON_SEX_OFFENDERS_REGISTER = "child_on_sex_offenders_register"


class ChildDeathType(StrEnum):
    """Categories of child death.

    Source: CPSCP-Procedures, Child death > 1.5 Definitions; 2.2 Evidence of Criminality;
    3.1 General Principles.
    """

    SUDI = "sudi"
    SUDC = "sudc"
    ANTICIPATED_WITH_CONCERN = "anticipated_with_concern"
    CRIMINAL_SUSPECTED = "criminal_suspected"
    SUICIDE = "suicide"


class ChildDeathStage(StrEnum):
    """What an M19 message is: the notice of the death, or a record that follows it in reply: the
    initial case management discussion's minutes (what answers the 12-hour clock; a read receipt is
    not a meeting), the scene-of-death visit's documentation, the second discussion's minutes, Form C;
    the Coroner's notice that the post-mortem examination was held, and the pathologist's provisional
    and complete reports to the Coroner.

    Source: CPSCP-Procedures, Child death > 3.6.1 On call Health Professional; 3.9 Role of Coroner and
    Pathologist; 4.4 Plan of Scene of death visit; 4.5 Initial Case Management Discussion; 4.6 Second
    Case Management Discussion; 4.7 Third Case Management Discussion.
    """

    NOTIFICATION = "notification"
    ICMD_RECORD = "icmd_record"
    # The scene-of-death visit's record (or why none was made), for the pathologist within 24 hours
    # of the visit in the working week, and Form B for the CDOP manager.
    SCENE_DOCUMENTATION = "scene_documentation"
    # The second case management discussion's minutes, to every professional and the Coroner.
    CMD_RECORD = "cmd_record"
    # The third discussion's minutes, recorded as Form C and sent to the Coroner.
    FORM_C = "form_c"
    # The Coroner (who has control of the body and chooses the pathologist) tells the pathologist, and
    # the police and CDOP, that the post-mortem examination was held: the report clocks run from it.
    POST_MORTEM_HELD = "post_mortem_held"
    # The pathologist's provisional report (a preliminary cause of death where possible, retained
    # samples) and complete report: to the Coroner first, shared further only at the Coroner's discretion.
    PM_PROVISIONAL_REPORT = "pm_provisional_report"
    PM_COMPLETE_REPORT = "pm_complete_report"


_ICMD = "CPSCP-Procedures, Child death > 4.5 Initial Case Management Discussion"
_SCENE = "CPSCP-Procedures, Child death > 3.6.1 On call Health Professional"
_PM = "CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist"
_TRANSFER = (
    "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to Another"
)


class ChildMoveTransferPayload(PayloadModel):
    """M17: the transfer package for a child moving area.

    Source: CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local
    Authority's Area to Another > Child Subject of a Child Protection Plan, through Child in Need,
    Or Subject of Child and Family Assessment.
    """

    transfer_type: TransferType = classed(D.CASE_STATUS, "Which transfer protocol applies", policy_fact=True)
    child: PersonIdentity = classed(D.IDENTITY, "The child moving")
    move_date: date = classed(D.CASE_ADMIN, "Date of the move (known or planned)")
    new_address: str | None = classed(
        D.CONTACT_ADDRESS, "Address in the receiving area", default=None, max_length=SHORT_TEXT
    )
    legal_status: str | None = classed(
        D.CASE_STATUS, "Orders in force, CP/CIN status", default=None, max_length=SHORT_TEXT
    )
    cp_plan: str | None = classed(D.CASE_STATUS, "Current CP or CIN plan", default=None, max_length=LONG_TEXT)
    assessments: str | None = classed(
        D.RISK_ASSESSMENT,
        "Current assessments incl. risk, and how the move changes risk",
        default=None,
        max_length=LONG_TEXT,
    )
    core_group_notes: str | None = classed(
        D.CASE_HISTORY, "Core group notes and previous conference reports", default=None, max_length=LONG_TEXT
    )
    health_and_education_needs: str | None = classed(
        D.SC_HEALTH, "Special needs incl. health and education", default=None, max_length=LONG_TEXT
    )
    court_reports: str | None = classed(
        D.COURT_MATERIAL,
        "s7/s37 and expert reports (court permission needed)",
        default=None,
        max_length=LONG_TEXT,
    )
    pre_sentence_report: str | None = classed(
        D.CRIMINAL_CONVICTION,
        f"The youth offending pre-sentence report (child_on_sex_offenders_register) [{_TRANSFER} > Child on the"
        " Sex Offenders Register]",
        default=None,
        max_length=LONG_TEXT,
    )
    previous_cp_reports: str | None = classed(
        D.CASE_HISTORY,
        f"Previous child protection reports or minutes relating to the perpetrator [{_TRANSFER} > Child on the"
        " Sex Offenders Register]",
        default=None,
        max_length=LONG_TEXT,
    )
    adults_posing_risk: str | None = classed(
        D.CRIMINAL_INTELLIGENCE,
        "MAPPA/MARAC/IDAP information on relevant adults [CPSCP-Procedures, Transfer of Responsibility for"
        " Children Who Move from One Local Authority's Area to Another > Child Subject To Section 47 Enquiries]",
        default=None,
        max_length=LONG_TEXT,
    )


_MINUTES = ("meeting_at", "actions_agreed")
_DEATH_STAGE_FIELDS: dict[str, tuple[str, ...]] = {
    ChildDeathStage.ICMD_RECORD: _MINUTES,
    ChildDeathStage.SCENE_DOCUMENTATION: ("scene_visit_record",),
    ChildDeathStage.CMD_RECORD: _MINUTES,
    ChildDeathStage.FORM_C: _MINUTES,
    ChildDeathStage.POST_MORTEM_HELD: ("post_mortem_at",),
    ChildDeathStage.PM_PROVISIONAL_REPORT: ("post_mortem_at", "post_mortem_findings"),
    ChildDeathStage.PM_COMPLETE_REPORT: ("post_mortem_at", "post_mortem_findings"),
}


class ChildDeathNotificationPayload(PayloadModel):
    """M19: notification of an unexpected child death.

    Source: CPSCP-Procedures, Child death.
    """

    stage_fields: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType(_DEATH_STAGE_FIELDS)
    stage_extras: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType(
        {ChildDeathStage.PM_PROVISIONAL_REPORT: ("complex_investigations",)}
    )
    # Defaulted: a notice is what every sender sent before the meeting record could be expressed.
    stage: ChildDeathStage = classed(
        D.CASE_STATUS,
        f"Notice of the death or record of the ICMD [{_ICMD}]",
        default=ChildDeathStage.NOTIFICATION,
        policy_fact=True,
    )
    child: PersonIdentity = classed(D.IDENTITY, "The child who died")
    death_type: ChildDeathType = classed(D.CASE_STATUS, "Category of death", policy_fact=True)
    died_at: datetime = classed(D.CASE_ADMIN, "When death was confirmed")
    circumstances: str = classed(D.CONCERN_NARRATIVE, "How the child was found, last 24 h", max_length=LONG_TEXT)
    place_of_death: str | None = classed(
        D.CONTACT_ADDRESS, "Where the death happened", default=None, max_length=SHORT_TEXT
    )
    siblings: list[PersonIdentity] | None = classed(
        D.THIRD_PARTY_IDENTITY, "Surviving siblings (their safeguarding)", default=None
    )
    medical_history: str | None = classed(
        D.SC_HEALTH, "Past and family medical history", default=None, max_length=LONG_TEXT
    )
    post_mortem_findings: str | None = classed(
        D.CORONIAL_MATERIAL,
        "Post-mortem results, shared only at the Coroner's discretion"
        " [CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist]",
        default=None,
        max_length=LONG_TEXT,
    )
    suspected_deliberate_harm: bool = classed(
        D.RISK_ASSESSMENT,
        "Whether deliberate harm is suspected [CPSCP-Procedures, Child death > 3.10.1 Social Care]",
        # The policy reads it: suspected deliberate harm puts the siblings at risk (their duty, GR5).
        policy_fact=True,
    )
    meeting_at: datetime | None = classed(
        D.CASE_ADMIN,
        f"When the case management discussion was held (icmd_record, cmd_record, form_c) [{_ICMD}]",
        default=None,
    )
    actions_agreed: str | None = classed(
        D.CASE_STATUS,
        f"The minutes: decisions, actions and who is responsible, recorded even when no safeguarding risk or"
        f" maltreatment is found (icmd_record, cmd_record, form_c) [{_ICMD}]",
        default=None,
        max_length=LONG_TEXT,
    )

    scene_visit_record: str | None = classed(
        D.CONCERN_NARRATIVE,
        "The scene-of-death visit's findings, or why no visit was made (scene_documentation) [CPSCP-Procedures,"
        " Child death > 4.4 Plan of Scene of death visit]",
        default=None,
        max_length=LONG_TEXT,
    )

    scene_visit_at: datetime | None = classed(
        D.CASE_ADMIN,
        "When the scene-of-death visit was made: its documentation is due to the pathologist within 24"
        f" hours of it in the working week (any stage before scene_documentation) [{_SCENE}]",
        default=None,
    )
    post_mortem_at: datetime | None = classed(
        D.CASE_ADMIN,
        "When the post-mortem examination was held: the pathologist's reports are due from it"
        f" (post_mortem_held, pm_provisional_report, pm_complete_report) [{_PM}]",
        default=None,
    )
    complex_investigations: str | None = classed(
        D.CORONIAL_MATERIAL,
        "The complex investigations the complete report waits for (pm_provisional_report); given, the"
        f" complete report follows their results instead of one week after the examination [{_PM}]",
        default=None,
        max_length=LONG_TEXT,
    )

    @model_validator(mode="after")
    def _record_needs_minutes(self) -> ChildDeathNotificationPayload:
        missing = [name for name in self.stage_fields.get(self.stage, ()) if getattr(self, name) in (None, "")]
        if missing:
            raise stage_fields_missing(self.stage, missing)
        return self

    @model_validator(mode="after")
    def _category_fits_the_age(self) -> ChildDeathNotificationPayload:
        # SUDI is a death under 12 months, SUDC from a year on [CPSCP-Procedures, Child death > 1.5
        # Definitions]: the category chooses who is told and how, so a date of birth must agree with it.
        born = self.child.date_of_birth
        if born is None or self.death_type not in (ChildDeathType.SUDI, ChildDeathType.SUDC):
            return self
        infant = self.died_at.date() < _first_birthday(born)
        if infant != (self.death_type is ChildDeathType.SUDI):
            fits = "sudi" if infant else "sudc"
            # Reported at the category, so a form names the question it answers.
            raise misplaced(
                "death_type_age",
                "payload.death_type '{given}' does not fit a child {aged} at death: it is '{fits}'",
                ("death_type",),
                given=self.death_type.value,
                aged=_aged(infant),
                fits=fits,
            )
        return self


def _first_birthday(born: date) -> date:
    # A child born on 29 February turns one on 1 March.
    return date(born.year + 1, born.month, born.day) if (born.month, born.day) != (2, 29) else date(born.year + 1, 3, 1)


def _aged(infant: bool) -> str:
    return "under 12 months" if infant else "aged a year or more"


class MissingChildPayload(PayloadModel):
    """M20: a child missing from home or care.

    Source: CPSCP-Procedures, Child exploitation > Missing Children and Young People;
    CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents >
    Part 2 - Child Victims of Trafficking and/or Modern Slavery > Assessment.
    """

    child: PersonIdentity | None = classed(D.IDENTITY, "The missing child", default=None)
    age_band: str = classed(D.CASE_ADMIN, "Age band, e.g. '13-15' (for monitoring without identity)", max_length=20)
    missing_since: datetime = classed(D.CASE_ADMIN, "When the child was last seen")
    physical_description: str | None = classed(
        D.IDENTITY, "Description to help find the child", default=None, max_length=LONG_TEXT
    )
    last_known_location: str | None = classed(
        D.LOCATION_SAFETY, "Last known whereabouts", default=None, max_length=SHORT_TEXT
    )
    risk_factors: str | None = classed(
        D.RISK_ASSESSMENT, "Push/pull factors, exploitation indicators", default=None, max_length=LONG_TEXT
    )
    associates: str | None = classed(
        D.CRIMINAL_INTELLIGENCE, "Known associates and places", default=None, max_length=LONG_TEXT
    )
    episode_count: int | None = classed(D.CASE_HISTORY, "Missing episodes so far", default=None, ge=0)
    looked_after: bool | None = classed(D.CASE_STATUS, "Whether the child is looked after", default=None)
