"""Worked examples of the gateway's HTTP API, published in its OpenAPI (`examples`) and usable as fixtures.

Every person, place, number and agency here is invented: names are "Example", the telephone
number is in Ofcom's drama range (01632 960xxx), ids are obviously synthetic. Answers are model
instances, so an example that drifts from its schema fails at import, not in a client's parser.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from schemas.access_events import AccessEvent
from schemas.api import (
    DecidedBy,
    DecidingRule,
    DecisionDetail,
    DecisionPage,
    DecisionSummary,
    DeliveryStatus,
    ExplainedReason,
    IntegrityVerified,
    Liveness,
    LogEvent,
    NotificationReceipt,
    NotificationStatus,
    ObligationDue,
    OverdueEvent,
    Readiness,
    RecipientReceipt,
    RepublishAnswer,
    RuleReason,
    StatusEvent,
)
from schemas.case_api import CaseReview, CaseReviewDecision, CaseReviewSearch, CaseShredding, ShreddedCopies
from schemas.deadlines import Deadline
from schemas.review_queues import ReviewAnswer, ReviewItem, ReviewQueues
from schemas.vocab import AgencyRole, DueUnit, LawfulBasis, Outcome

NOTIFICATION_ID: Final = "00000000-0000-4000-8000-00000000e001"
TO_CSC: Final = "00000000-0000-4000-8000-00000000d001"
TO_POLICE: Final = "00000000-0000-4000-8000-00000000d002"
SENDER: Final = "school-example-primary"
CSC: Final = "csc-example-mash"
POLICE: Final = "police-example"
DECIDED_AT: Final = "2026-01-12T09:30:00.000000Z"
CHECKPOINT: Final = (
    "example.invalid/decision-log\n1042\nZXhhbXBsZSByb290IGhhc2ggMDEyMzQ1Njc4OWFiY2RlZg==\n"
    "time 2026-01-12T09:29:58.000000Z\nchain ZXhhbXBsZSBjaGFpbiBoZWFkIDAxMjM0NTY3ODlhYmNkZWY=\n\n"
    "\u2014 example.invalid/decision-log ZXhhbXBsZSBzaWduYXR1cmU=\n"
)

NOTIFICATION: Final[dict[str, Any]] = {
    "message_type": "safeguarding_referral",
    "schema_version": "1.0",
    "notification_id": NOTIFICATION_ID,
    "created_at": "2026-01-12T09:29:41+00:00",
    "purpose": "safeguarding_concern",
    "purpose_statement": "A pupil disclosed being hurt at home; children's social care to assess.",
    "lawful_basis": "safeguarding_children_individuals_at_risk",
    "consent": [
        {
            "subject_ref": "child-1",
            "giver": "parent_pr",
            "status": "not_sought",
            "not_sought_reason": "risk_significant_harm",
        }
    ],
    "parental_position": {
        "parents_informed": False,
        "parent_withheld_permission": False,
        "reason_not_informed": "risk_significant_harm",
    },
    "authorisation": {
        "authoriser_role": "dsl",
        "authoriser_ref": "dsl-02",
        "authorised_at": "2026-01-12T09:25:00+00:00",
        "reason": "Example: telling the parents first could put the child at risk.",
    },
    "risk": {
        "immediate_significant_harm": False,
        "likely_significant_harm": True,
        "serious_harm_to_adult": False,
        "risk_to_others": False,
        "crime_suspected": True,
    },
    "subjects": [{"subject_ref": "child-1", "role_in_case": "child", "age_years": 8}],
    "sender": {"agency_id": SENDER, "role": "dsl", "user_ref": "dsl-01", "is_professional": True},
    "recipients": [
        {"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"},
        {"agency_id": POLICE, "role": "police_public_protection", "need_to_know": "investigate_crime"},
    ],
    "payload": {
        "child": {"given_name": "Example", "family_name": "Child", "date_of_birth": "2017-06-01", "gender": "female"},
        "concern_summary": "Example text: the pupil showed a mark on her arm and said an adult at home caused it.",
        "current_location": "At school until 15:15 (example)",
        "home_address": "1 Example Street, Exampletown",
        "parent_contact": "01632 960123",
        "referrer": {"name": "Example Referrer", "job_title": "Designated Safeguarding Lead"},
    },
}

_PROTECT = RuleReason(rule="GR1", message="Example: sharing to protect a child from significant harm.")
_RECORDED = RuleReason(rule="GR7", message="Example: this decision and its reasons are recorded.")
_NEEDS_ADVICE = RuleReason(rule="GR3", message="Example: the sender is unsure the police need this; advice first.")
_ASSESS = ObligationDue(
    kind="decide_on_referral",
    description="Decide what action to take on the referral",
    rule="I20",
    amount=1,
    unit=DueUnit.WORKING_DAYS,
    due_at="2026-01-13T09:30:00+00:00",
)
_ADVISE = ObligationDue(
    kind="give_advice",
    description="A safeguarding lead advises on the share",
    rule="GR3",
    amount=24,
    unit=DueUnit.HOURS,
    due_at="2026-01-13T09:30:00+00:00",
)
RECEIPT: Final = NotificationReceipt(
    notification_id=UUID(NOTIFICATION_ID),
    checkpoint=CHECKPOINT,
    recipients=[
        RecipientReceipt(
            delivery_id=TO_CSC,
            agency_id=CSC,
            role=AgencyRole.MASH_INTAKE,
            outcome=Outcome.SHARE,
            decided_by=[_PROTECT],
            reasons=[_PROTECT, _RECORDED],
            lawful_basis=LawfulBasis.SAFEGUARDING_CHILDREN_INDIVIDUALS_AT_RISK,
            allowed_fields=["child", "concern_summary", "current_location", "home_address"],
            obligations=[_ASSESS],
            deadline=_ASSESS.due_at,
        ),
        RecipientReceipt(
            delivery_id=TO_POLICE,
            agency_id=POLICE,
            role=AgencyRole.POLICE_PUBLIC_PROTECTION,
            outcome=Outcome.NEEDS_ADVICE,
            decided_by=[_NEEDS_ADVICE],
            reasons=[_NEEDS_ADVICE, _RECORDED],
            lawful_basis=LawfulBasis.SAFEGUARDING_CHILDREN_INDIVIDUALS_AT_RISK,
            allowed_fields=["child", "concern_summary"],
            obligations=[_ADVISE],
            deadline=_ADVISE.due_at,
        ),
    ],
)

STATUS: Final = NotificationStatus(
    notification_id=NOTIFICATION_ID,
    recipients=[
        DeliveryStatus(
            delivery_id=TO_CSC,
            agency_id=CSC,
            outcome="share",
            status="delivered",
            overdue=False,
            events=[
                StatusEvent(kind="decided", at=DECIDED_AT, seq=1040),
                StatusEvent(kind="published", at="2026-01-12T09:30:00.210000Z", seq=1043),
                StatusEvent(kind="delivered", at="2026-01-12T09:30:01.020000Z", seq=1044),
            ],
        ),
        DeliveryStatus(
            delivery_id=TO_POLICE,
            agency_id=POLICE,
            outcome="needs_advice",
            status="decided",
            overdue=False,
            events=[StatusEvent(kind="decided", at=DECIDED_AT, seq=1041)],
        ),
    ],
)

_SUMMARY: Final = DecisionSummary(
    seq=1040,
    recorded_at=DECIDED_AT,
    notification_id=NOTIFICATION_ID,
    delivery_id=TO_CSC,
    outcome="share",
    message_type="safeguarding_referral",
    sender_agency=SENDER,
    sender_role="dsl",
    recipient_agency=CSC,
    lawful_basis="safeguarding_children_individuals_at_risk",
    consent_state="not_sought",
    rules=["GR1", "GR7"],
    overdue=False,
)
DECISION_PAGE: Final = DecisionPage(total=1, limit=50, offset=0, items=[_SUMMARY])

_DELIVERED = LogEvent(
    seq=1044,
    kind="delivered",
    outcome="share",
    recorded_at="2026-01-12T09:30:01.020000Z",
    actor=CSC,
    actor_role="agency_system",
    actor_agency=CSC,
    reasons=[],
    follows=[1040],
)
DECISION_DETAIL: Final = DecisionDetail(
    **_SUMMARY.model_dump(),
    reasons=[
        ExplainedReason(
            rule="GR1",
            message="Example: sharing to protect a child from significant harm.",
            title="Golden rule 1",
            source="Example source excerpt.",
            source_origin="builtin",
        )
    ],
    fields_released=["child", "concern_summary", "current_location", "home_address"],
    projection_digest="0123456789abcdef" * 4,
    subjects_pseudonymised=1,
    decided_by=DecidedBy(
        policy_revision="example-rev-1", decision_id="00000000-0000-4000-8000-00000000c001", engine="OPA policy bundle"
    ),
    reviewed_by=[],
    events=[_DELIVERED],
    deadlines=[
        Deadline(
            rule="GR6",
            description="Example: children's social care acknowledges the referral within 1 working day (T01).",
            due_at="2026-01-13T00:00:00+00:00",
            state="met",
            since="2026-01-12T09:31:00+00:00",
        )
    ],
    integrity=IntegrityVerified(
        status="verified",
        checkpoint_size=1042,
        checkpoint_time="2026-01-12T09:29:58.000000Z",
        origin="example.invalid/decision-log",
        leaf_hash="fedcba9876543210" * 4,
        detail="included in the checkpoint of 1042 entries signed by the broker key",
        witnesses=2,
        witnessed_by=[CSC, POLICE],
    ),
    same_notification=[
        _SUMMARY.model_copy(
            update={
                "seq": 1041,
                "delivery_id": TO_POLICE,
                "outcome": "needs_advice",
                "recipient_agency": POLICE,
                "rules": ["GR3"],
                "deciding_rule": DecidingRule(rule="GR3", title="Seek advice if you are in any doubt"),
                "state": "held",
            }
        )
    ],
)

QUEUES: Final = ReviewQueues(
    hold_for_authorisation=[],
    urgent_review=[],
    needs_advice=[
        ReviewItem(
            delivery_id=TO_POLICE,
            outcome="needs_advice",
            decided_seq=1041,
            message_type="safeguarding_referral",
            sender_agency=SENDER,
            recipient_agency=POLICE,
            purpose="safeguarding_concern",
            data_classes=["concern_narrative", "identity"],
            reasons=[_NEEDS_ADVICE],
            lawful_basis="safeguarding_children_individuals_at_risk",
            consent_state="not_sought",
            waiting_since="2026-01-12T09:30:00.000000Z",
            expires_at="2026-01-19T09:30:00+00:00",
            deciding_rules=["GR3"],
            deciding_reasons=[0],
            resolves=(
                "An adviser's answer (a DSL, IG lead, Caldicott Guardian or named professional of the sender's "
                "agency, or the partnership's IG lead or Caldicott Guardian): share it or do not."
            ),
        )
    ],
)

QUEUE_ANSWER: Final[dict[str, Any]] = {"decision": "release", "reason": "Example: police need it to protect the child."}
RELEASED: Final = ReviewAnswer(
    seq=1050, kind="advice_given", outcome="released", follows=[1041], recorded_at="2026-01-12T10:02:11.000000Z"
)
URGENT_REVIEW: Final[dict[str, Any]] = {"reason": "Example: the urgent share was proportionate.", "finding": "upheld"}
REVIEWED: Final = ReviewAnswer(
    seq=1061, kind="urgent_reviewed", outcome="upheld", follows=[1055], recorded_at="2026-01-12T11:15:40.000000Z"
)

OVERDUE: Final = [
    OverdueEvent(
        **_SUMMARY.model_dump(exclude={"seq", "recorded_at", "overdue"}),
        overdue=True,
        seq=1090,
        kind="overdue",
        recorded_at="2026-01-13T09:30:05.000000Z",
        reasons=[RuleReason(rule="I20", message="Overdue: Decide what action to take on the referral")],
        follows=[1040],
        deadline=Deadline(
            rule="I20",
            description="Decide what action to take on the referral",
            due_at="2026-01-13T09:30:00+00:00",
            state="overdue",
            since="2026-01-13T09:30:00+00:00",
        ),
    )
]

LIVE: Final = Liveness(status="ok")
READY: Final = Readiness(database="ok", policy="ok", kafka="connected")
NOT_READY: Final = Readiness(database="ok", policy="unavailable", kafka="connected")
METRICS: Final = (
    "# HELP sgb_outbox_depth Outbox rows committed but not yet published\n"
    "# TYPE sgb_outbox_depth gauge\nsgb_outbox_depth 0.0\n"
)

ACCESS_EVENTS: Final = [
    AccessEvent(
        seq=1101,
        recorded_at="2026-01-12T12:00:00.000000Z",
        kind="access_refused",
        outcome="access_refused",
        subject="access",
        agency="housing-example",
        role="ig_lead",
        actor="staff-example-9",
        actor_role="ig_lead",
        actor_agency="housing-example",
        reasons=[
            RuleReason(rule="SYS-ACCESS", message="the registry does not grant the role 'ig_lead' to 'housing-example'")
        ],
    ),
    AccessEvent(
        seq=1001,
        recorded_at="2026-01-05T08:00:00.000000Z",
        kind="registry_changed",
        outcome="role_granted",
        subject="registry",
        agency="housing-example",
        role="practitioner",
        actor="ops-admin-01",
        actor_role="operator",
        reasons=[
            RuleReason(
                rule="SYS-REGISTRY",
                message="change #1: ops-admin-01 granted practitioner to housing-example at 2026-01-05T08:00:00+00:00",
            )
        ],
    ),
]

CASE_REVIEW: Final = CaseReview(
    person="3f1c" + "0" * 56 + "9a2e",
    decisions=[
        CaseReviewDecision(
            **_SUMMARY.model_dump(),
            fields_released=["child", "concern_summary"],
            then=[_DELIVERED],
        )
    ],
    searches=[
        CaseReviewSearch(
            recorded_at="2026-01-12T14:05:00.000000Z",
            actor="ig-lead-example",
            actor_role="ig_lead",
            actor_agency="csc-example",
            message="Case review of one person: 1 decision found.",
        )
    ],
)

REPUBLISHED: Final = RepublishAnswer(delivery_id=TO_CSC, queued=True)

CASE_SHREDDED: Final = CaseShredding(
    person="3f1c" + "0" * 56 + "9a2e",
    keys_destroyed=1,
    unreadable=ShreddedCopies(outbox_envelopes=2, held_deliveries=1),
    deliveries_logged=3,
    published_deliveries=2,
    erasure_notices=2,
)
