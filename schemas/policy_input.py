"""The policy input (what OPA sees) and the projection of a payload to a recipient's allowed fields.

The input carries names, classes, codes and flags only: never a payload value, a purpose statement
or any other free text, so OPA's decision logs cannot leak what the broker guards (Caldicott C2-C3).
Free text shows up only as a `has_*` flag where a rule needs to know it exists.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import (
    AGENCY_ID_PATTERN,
    DEADLINE_RULE_PATTERN,
    FAMILY_RELATIONS,
    PERPETRATOR_RELATIONS,
    ConsentRecord,
    Recipient,
    Restrictions,
    RiskFlags,
    Subject,
)
from schemas.notifications import Notification, payload_data_classes, payload_of
from schemas.vocab import (
    AgencyRole,
    AgencyType,
    Assessed,
    AuthoriserRole,
    ConcernTag,
    ConsentException,
    ConsentGiver,
    ConsentStatus,
    ContactMode,
    DataClass,
    LawfulBasis,
    MessageType,
    NeedToKnow,
    Purpose,
    SubjectRole,
)

POLICY_INPUT_VERSION: Literal["1.0"] = "1.0"
# OPA Data API path of the decision document (package safeguarding.decision, rule `decision`).
POLICY_ENTRYPOINT = "safeguarding/decision/decision"
PARTNERSHIP_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,62}$"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSender(_Closed):
    agency_id: str = Field(pattern=AGENCY_ID_PATTERN)
    role: AgencyRole
    is_professional: bool


class InputRecipient(_Closed):
    agency_id: str = Field(pattern=AGENCY_ID_PATTERN)
    role: AgencyRole
    need_to_know: NeedToKnow | None
    conveys_to_family: bool
    conveys_to_alleged_perpetrator: bool


class InputSubject(_Closed):
    role_in_case: SubjectRole
    age_years: int | None
    gillick_competent: Assessed
    mental_capacity: Assessed
    adult_at_risk_care_act: bool | None


class InputConsent(_Closed):
    giver: ConsentGiver
    status: ConsentStatus
    # The consent's scope (schemas.common.ConsentRecord); None means no limit stated.
    scope_agencies: list[str] | None
    scope_agency_types: list[AgencyType] | None = None
    scope_purposes: list[Purpose] | None = None
    privacy_notice_given: bool | None
    not_sought_reason: ConsentException | None


class InputParentalPosition(_Closed):
    parents_informed: bool | None
    parent_withheld_permission: bool | None
    reason_not_informed: ConsentException | None
    has_reason_text: bool
    child_asked_not_told: bool | None = None


class InputAuthorisation(_Closed):
    authoriser_role: AuthoriserRole
    has_reason: bool
    # True only when the gateway verified the authoriser's own signed token, bound to this very
    # notification; a block typed into the body by the sender is a claim, not evidence.
    verified: bool = False


class InputDeadline(_Closed):
    rule_id: str = Field(pattern=DEADLINE_RULE_PATTERN)


class PolicyInput(_Closed):
    """OPA input for one notification: all requested recipients are decided in one query."""

    input_version: Literal["1.0"] = POLICY_INPUT_VERSION
    partnership_id: str = Field(pattern=PARTNERSHIP_ID_PATTERN)
    notification_id: str
    message_type: MessageType
    schema_version: str
    purpose: Purpose | None
    has_purpose_statement: bool
    lawful_basis: LawfulBasis | None
    consent: list[InputConsent]
    parental_position: InputParentalPosition | None
    authorisation: InputAuthorisation | None
    risk: RiskFlags
    concern_tags: list[ConcernTag]
    subjects: list[InputSubject]
    sender: InputSender
    recipients: list[InputRecipient]
    restrictions: Restrictions
    initial_contact: ContactMode
    sender_in_doubt: bool
    deadline: InputDeadline | None
    payload_fields: dict[str, DataClass]
    payload_facts: dict[str, str]


def build_policy_input(
    notification: Notification, partnership_id: str, *, authorisation_verified: bool = False
) -> PolicyInput:
    """Reduce a validated notification to what the rules need (pure, no I/O, no payload values).

    `authorisation_verified`: the gateway checked the authoriser's signed token for this notification.
    """
    n = notification
    return PolicyInput(
        partnership_id=partnership_id,
        notification_id=str(n.notification_id),
        message_type=n.message_type,
        schema_version=n.schema_version,
        purpose=n.purpose,
        has_purpose_statement=bool(n.purpose_statement),
        lawful_basis=n.lawful_basis,
        consent=[_consent(c) for c in n.consent],
        parental_position=_parental_position(n),
        authorisation=None
        if n.authorisation is None
        else InputAuthorisation(
            authoriser_role=n.authorisation.authoriser_role,
            has_reason=bool(n.authorisation.reason),
            verified=authorisation_verified,
        ),
        risk=n.risk,
        concern_tags=sorted(set(n.concern_tags)),
        subjects=[_subject(s) for s in n.subjects],
        sender=InputSender(agency_id=n.sender.agency_id, role=n.sender.role, is_professional=n.sender.is_professional),
        recipients=[_recipient(r, n.conveys_to_relations(r)) for r in n.recipients],
        restrictions=n.restrictions,
        initial_contact=n.initial_contact,
        sender_in_doubt=n.sender_in_doubt,
        deadline=None if n.deadline is None else InputDeadline(rule_id=n.deadline.rule_id),
        payload_fields=payload_data_classes(n),
        payload_facts=payload_of(n).policy_fact_values(),
    )


def _consent(c: ConsentRecord) -> InputConsent:
    return InputConsent(
        giver=c.giver,
        status=c.status,
        scope_agencies=c.scope_agencies,
        scope_agency_types=c.scope_agency_types,
        scope_purposes=c.scope_purposes,
        privacy_notice_given=c.privacy_notice_given,
        not_sought_reason=c.not_sought_reason,
    )


def _parental_position(n: Notification) -> InputParentalPosition | None:
    position = n.parental_position
    if position is None:
        return None
    return InputParentalPosition(
        parents_informed=position.parents_informed,
        parent_withheld_permission=position.parent_withheld_permission,
        reason_not_informed=position.reason_not_informed,
        has_reason_text=bool(position.reason_not_informed_text),
        child_asked_not_told=position.child_asked_not_told,
    )


def _subject(s: Subject) -> InputSubject:
    return InputSubject(
        role_in_case=s.role_in_case,
        age_years=s.age_years,
        gillick_competent=s.gillick_competent,
        mental_capacity=s.mental_capacity,
        adult_at_risk_care_act=s.adult_at_risk_care_act,
    )


def _recipient(r: Recipient, relations: set[str]) -> InputRecipient:
    """A recipient as the rules see it; passing information on to a named withheld person counts as
    passing it to the family or to an alleged perpetrator, whichever that person is (GR5)."""
    return InputRecipient(
        agency_id=r.agency_id,
        role=r.role,
        need_to_know=r.need_to_know,
        conveys_to_family=r.conveys_to_family or bool(relations & FAMILY_RELATIONS),
        conveys_to_alleged_perpetrator=r.conveys_to_alleged_perpetrator or bool(relations & PERPETRATOR_RELATIONS),
    )


def project(notification: Notification, allowed_fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The payload as JSON, keeping only `allowed_fields` (what the gateway seals for one recipient).

    A name the payload does not define raises ValueError: a policy naming a field the schema does
    not know is a contract break, not something to skip quietly.
    """
    payload = payload_of(notification)
    unknown = set(allowed_fields) - set(payload.data_classes)
    if unknown:
        raise ValueError(f"allowed_fields names fields the payload does not define: {sorted(unknown)}")
    dumped = payload.model_dump(mode="json")
    return {name: dumped[name] for name in sorted(set(allowed_fields)) if dumped.get(name) not in (None, [], "")}
