"""The common notification envelope: what every notification says about purpose, basis and people.

Built as the share request envelope of the decision contract (policies/README.md). Keys the
policy rules need (purpose, lawful basis, consent, parental position, authorisation, risk flags)
are required keys whose value may be null or "unsure": the policy, not the schema, turns a
missing answer into hold_for_authorisation or needs_advice with a reason (issue 3). Unknown keys
and values are errors.

Recipients are always registered agencies (a role within one). People are never recipients: the
persons who must not receive (a family member, an alleged perpetrator, the subject of an allegation)
are named in `withheld_from`, and a recipient who would pass the information on to one of them says
so (`conveys_to`, or the older flags), so the policy strips what would endanger someone (GR5).
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from schemas.fields import LONG_TEXT, Part
from schemas.locations import misplaced
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
    LawfulBasis,
    NeedToKnow,
    Purpose,
    SubjectRole,
    ThresholdLevel,
)

# Same grammar as Kafka topic components (schemas/topics.py), so any agency id routes.
AGENCY_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
# Local, pseudonymous references only: never a name, NHS number or address.
REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_NOT_IN_REF = re.compile(r"[^A-Za-z0-9._:-]")


def as_ref(subject: str) -> str:
    """A person's token `sub` in a reference's characters, as a notification's `sender.user_ref` names
    them: any @ / + = as -, 64 at most. Whoever compares a person with the people a notification names
    compares this, never the raw `sub`."""
    return _NOT_IN_REF.sub("-", subject)[:64]


DEADLINE_RULE_PATTERN = r"^T[0-9]{2}$"

# A UUID's one spelling (RFC 9562's output form): lower case, hyphenated 8-4-4-4-12.
UUID_PATTERN: Final = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_UUID = re.compile(UUID_PATTERN)


def _one_spelling(value: object) -> object:
    # pydantic's UUID, strict or not, also reads urn:uuid:, braces, upper case and bare hex as the same
    # id. RFC 9562 would have input read case-insensitively, but the log, the outbox and every review
    # find a notification by its id's text: an id the agency keeps in another spelling than the log's
    # finds nothing, so it is refused at once rather than silently respelled.
    if isinstance(value, str) and _UUID.fullmatch(value) is None:
        raise PydanticCustomError(
            "uuid_not_canonical", "must be a UUID in lower case, 8-4-4-4-12 hex digits with hyphens"
        )
    return value


# A UUID an agency sends: read only in its canonical spelling (the pattern is published with it).
CanonicalUuid = Annotated[
    UUID,
    BeforeValidator(_one_spelling),
    WithJsonSchema({"type": "string", "format": "uuid", "pattern": UUID_PATTERN}),
]
# The same id as text, where the broker looks it up rather than reads it (a URL's path): a lookup by
# another spelling would find nothing and answer 404, so the spelling is refused by name (422) instead.
CanonicalUuidText = Annotated[
    str,
    BeforeValidator(_one_spelling),
    WithJsonSchema({"type": "string", "format": "uuid", "pattern": UUID_PATTERN}),
]
AgencyId = Annotated[str, Field(pattern=AGENCY_ID_PATTERN)]
LocalRef = Annotated[str, Field(pattern=REF_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=LONG_TEXT)]
# Timestamps must carry a zone: a naive time would make deadlines ambiguous.
Timestamp = AwareDatetime


class Sender(Part):
    agency_id: AgencyId
    role: AgencyRole
    user_ref: LocalRef
    # A professional referral cannot be anonymous [CPSCP-Procedures, Responding to concerns about a
    # child > Consulting parents]; members of the public reach the broker through an agency, which
    # then sends as a professional on their behalf.
    is_professional: bool


# Who a withheld person is to the case; each decides which of the recipient's columns GR5 applies.
WithheldRelation = Literal["family_member", "household_member", "alleged_perpetrator", "subject_of_allegation"]
FAMILY_RELATIONS = frozenset({"family_member", "household_member"})
PERPETRATOR_RELATIONS = frozenset({"alleged_perpetrator", "subject_of_allegation"})


class WithheldPerson(Part):
    """A person this notification names who must never receive it, directly or through a recipient.

    Source: CPSCP-Procedures, Information sharing (golden rule 5); Engaging parents who are
    perpetrators of domestic abuse in child protection processes (engagement must not increase risk).
    """

    person_ref: LocalRef
    relation: WithheldRelation


class Recipient(Part):
    agency_id: AgencyId
    role: AgencyRole
    need_to_know: NeedToKnow | None
    need_to_know_detail: Text | None = None
    conveys_to_family: bool = False
    conveys_to_alleged_perpetrator: bool = False
    # Persons of `withheld_from` this recipient passes information on to (a social worker who will
    # speak to the father, say): what could endanger someone is withheld from the recipient.
    conveys_to: list[LocalRef] = Field(default_factory=list, max_length=20)


# The roles that name a child: a sibling, a carer or a household member may be of any age.
_CHILDREN: Final = frozenset({SubjectRole.CHILD, SubjectRole.UNBORN_CHILD, SubjectRole.DECEASED_CHILD})


class Subject(Part):
    subject_ref: LocalRef
    role_in_case: SubjectRole
    age_years: int | None = Field(ge=0, le=130)
    gillick_competent: Assessed = Assessed.NOT_ASSESSED
    mental_capacity: Assessed = Assessed.NOT_ASSESSED
    adult_at_risk_care_act: bool | None = None
    # The one identifier every agency holds for the same child, so their records link: it is never
    # stored or sent, only turned into the partnership's keyed pseudonym (see `linking_key`).
    nhs_number: str | None = Field(default=None, pattern=r"^[0-9]{10}$")

    @field_validator("age_years")
    @classmethod
    def _a_child_is_under_18(cls, value: int | None, info: ValidationInfo) -> int | None:
        # A child is a person under 18 (Children Act 1989, s105): an older "child" is a mistyped age or
        # role, and the policy would read their consent and the parents' part as a child's. A young
        # person whose age is disputed is sent as a child without an age (Modern Slavery Act 2015, s51).
        if value is not None and value >= 18 and info.data.get("role_in_case") in _CHILDREN:
            raise PydanticCustomError(
                "child_age",
                "a child is under 18 (Children Act 1989, s105): give the age in whole years below 18, choose "
                "the role of an older person (adult at risk, adult victim, household member, …), or leave the "
                "age out if it is disputed",
            )
        return value

    @field_validator("nhs_number")
    @classmethod
    def _nhs_check_digit(cls, value: str | None) -> str | None:
        # NHS Digital's modulus 11 check: a mistyped number must not link two children.
        if value is not None:
            total = sum(int(d) * w for d, w in zip(value[:9], range(10, 1, -1), strict=True))
            check = 11 - total % 11
            if check == 10 or value[9] != str(0 if check == 11 else check):
                raise ValueError("is not a valid NHS number (its check digit does not match)")
        return value

    def linking_key(self, sender_agency: str) -> str:
        """What the partnership's pseudonym of this person is made from: the NHS number when given,
        else the sender's own reference (which links that agency's records only)."""
        return f"nhs:{self.nhs_number}" if self.nhs_number else f"ref:{sender_agency}:{self.subject_ref}"


class ConsentRecord(Part):
    """One consent-giver's position."""

    subject_ref: LocalRef
    giver: ConsentGiver
    status: ConsentStatus
    # What the consent covers. EHA: the family chooses which agencies may receive it [CPSCP-Procedures,
    # Policy for the Education of Children with a Parent or Close Relative in Prison or at Risk of a
    # Custodial Sentence > Appendix 3 > Who can help?]. Agencies by id or by type: once either list is
    # given, a recipient must be named by one of them. Purposes likewise. None means no limit stated. A
    # share that relies on consent goes only within this scope (GR4).
    # Bounded as every list a sender sets: each decided entry keeps what the input holds.
    scope_agencies: list[AgencyId] | None = Field(None, max_length=50)
    scope_agency_types: list[AgencyType] | None = Field(None, max_length=50)
    scope_purposes: list[Purpose] | None = Field(None, max_length=50)
    # Whether the person was given the privacy notice (EHA privacy notice, CPSCPB-CSA-Strategy, Section
    # Two > Early help assessment > Parental Consent). None is "not recorded", not "given": consent
    # relied on (lawful basis consent) without `true` here is held by Caldicott 8 (sg-policy-0.7.0).
    privacy_notice_given: bool | None = None
    # Why consent was not sought, or was refused or withdrawn (E1..E10): never beside consent given,
    # which the policy would otherwise read as an exception relied on (EnvelopeFields refuses it).
    not_sought_reason: ConsentException | None = Field(
        None,
        description="The exception relied on where consent was not sought, was refused or was withdrawn; "
        "never with status given_explicit",
    )
    obtained_at: Timestamp | None = None


class ParentalPosition(Part):
    """Parental knowledge of and agreement to the referral: travels in every referral.

    Source: CPSCP-Procedures, Responding to concerns about a child > Consulting parents.
    """

    parents_informed: bool | None
    parent_withheld_permission: bool | None
    reason_not_informed: ConsentException | None = None
    reason_not_informed_text: Text | None = None
    # A young person competent to decide may ask that their parents not be told, and the wish is
    # respected unless the conditions for sharing without consent apply (CPSCP-Procedures, Self-harm >
    # Information Sharing and Consent). Not an exception to seeking consent: it is about the parents only.
    child_asked_not_told: bool | None = None


class Authorisation(Part):
    authoriser_role: AuthoriserRole
    authoriser_ref: LocalRef
    authorised_at: Timestamp
    reason: Text


class RiskFlags(Part):
    """Risk as the sender judges it; None means the sender does not know."""

    immediate_significant_harm: bool | None
    likely_significant_harm: bool | None
    serious_harm_to_adult: bool | None
    risk_to_others: bool | None
    crime_suspected: bool | None
    evidence_loss_risk: bool | None = None
    delay_would_cause_harm: bool | None = None
    threshold_level: ThresholdLevel | None = None
    da_high_risk_marac: bool | None = None
    location_safety_sensitive: bool | None = None


class Restrictions(Part):
    """Legal gates on the material (C6) and its onward use (C5, I09)."""

    court_permission_required: bool = False
    court_permission_obtained: bool | None = None
    coroner_permission_required: bool = False
    coroner_permission_obtained: bool | None = None
    undertaking_signed: bool | None = None
    onward_disclosure_prohibited: bool = False


class Deadline(Part):
    rule_id: str = Field(pattern=DEADLINE_RULE_PATTERN, description="Timer id of the deadline (T01..T46)")
    due_at: Timestamp


class EnvelopeFields(Part):
    """Fields common to every notification type; each type adds `message_type` and `payload`."""

    schema_version: str
    notification_id: CanonicalUuid
    created_at: Timestamp
    purpose: Purpose | None
    purpose_statement: Text | None
    lawful_basis: LawfulBasis | None
    consent: list[ConsentRecord] = Field(max_length=50)
    parental_position: ParentalPosition | None
    authorisation: Authorisation | None
    risk: RiskFlags
    concern_tags: list[ConcernTag] = Field(default_factory=list, max_length=50)
    # Every decided entry keeps each subject's pseudonym: 3,000 subjects made 10 MB of log per request.
    subjects: list[Subject] = Field(min_length=1, max_length=50)
    sender: Sender
    withheld_from: list[WithheldPerson] = Field(default_factory=list, max_length=50)
    recipients: list[Recipient] = Field(min_length=1, max_length=50)
    restrictions: Restrictions = Field(default_factory=Restrictions)
    initial_contact: ContactMode = ContactMode.WRITTEN
    sender_in_doubt: bool = False
    deadline: Deadline | None = None
    # The notification this one answers (an outcome to a referral, say): its clocks stop on it.
    in_reply_to: CanonicalUuid | None = None

    @field_validator("recipients")
    @classmethod
    def _people_are_never_recipients(cls, recipients: list[Recipient], info: ValidationInfo) -> list[Recipient]:
        withheld = {p.person_ref: p.relation for p in info.data.get("withheld_from") or []}
        people = withheld.keys() | {s.subject_ref for s in info.data.get("subjects") or []}
        for i, r in enumerate(recipients):
            if r.agency_id in people:
                # The reference is not repeated: a refusal never quotes what was sent (it may be a name).
                raise misplaced(
                    "person_as_recipient",
                    "recipients[{i}].agency_id names a person of this notification; "
                    "people are never recipients: name the agency that works with them",
                    (i, "agency_id"),
                    i=i,
                )
            unknown = [n for n, ref in enumerate(r.conveys_to) if ref not in withheld]
            if unknown:
                raise misplaced(
                    "unknown_person",
                    "recipients[{i}].conveys_to[{n}] names no person of withheld_from",
                    (i, "conveys_to", unknown[0]),
                    i=i,
                    n=unknown[0],
                )
        return recipients

    def conveys_to_relations(self, recipient: Recipient) -> set[str]:
        """The relations (to the case) of the withheld persons `recipient` passes information to."""
        withheld = {p.person_ref: p.relation for p in self.withheld_from}
        return {withheld[ref] for ref in recipient.conveys_to if ref in withheld}

    @model_validator(mode="after")
    def _recipients_unique(self) -> EnvelopeFields:
        # One decision per (agency, role): a duplicate would make the decision ambiguous.
        seen: set[tuple[str, AgencyRole]] = set()
        for i, r in enumerate(self.recipients):
            if (r.agency_id, r.role) in seen:
                raise misplaced(
                    "repeated_recipient",
                    "recipients[{i}] repeats an earlier recipient's agency_id and role: name each once",
                    ("recipients", i),
                    i=i,
                )
            seen.add((r.agency_id, r.role))
        return self

    @model_validator(mode="after")
    def _consent_is_a_subjects(self) -> EnvelopeFields:
        # why: a consent record is one consent-giver's position about one of the notification's people,
        # and the policy input keeps no subject_ref: a record about anyone else would be read as this
        # case's consent [CPSCP-Procedures, Information sharing (golden rule 4)]. Subjects are named by
        # position, not by reference: a refusal never quotes what was sent (it may be a name).
        refs = {s.subject_ref for s in self.subjects}
        last = len(self.subjects) - 1
        for i, c in enumerate(self.consent):
            if c.subject_ref not in refs:
                raise misplaced(
                    "unknown_subject",
                    "consent[{i}].subject_ref names none of the notification's subjects: "
                    "it must be the subject_ref of one of them ({subjects})",
                    ("consent", i, "subject_ref"),
                    i=i,
                    subjects="subjects[0]" if last == 0 else f"subjects[0] to subjects[{last}]",
                )
        return self

    @model_validator(mode="after")
    def _given_consent_has_no_exception(self) -> EnvelopeFields:
        # why: a record that says consent was given and also why it was not sought says two things; the
        # policy reads the exception ("No consent is relied on, for a recorded reason") while the record
        # says consent was given [CPSCP-Procedures, Information sharing (golden rule 4)]. The reason is
        # the sender's to drop, or the status to put right: the broker does not guess which.
        for i, c in enumerate(self.consent):
            if c.status is ConsentStatus.GIVEN_EXPLICIT and c.not_sought_reason is not None:
                raise misplaced(
                    "exception_with_consent_given",
                    "consent[{i}].not_sought_reason is for consent not sought, refused or withdrawn; "
                    "this record says consent was given (status given_explicit): leave the reason out, "
                    "or give the status that applies",
                    ("consent", i, "not_sought_reason"),
                    i=i,
                )
        return self
