"""Realistic, clearly fictional notifications for gateway and consumer tests, and decision-log entries."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import audit
from audit import replay as audit_replay
from audit.models import PolicyInputRecord
from broker.ui.sessions import UiSession

# Invented people: no name, address or number here belongs to anyone real.
CHILD_NAME = {"given_name": "Alpha", "family_name": "Testchild", "date_of_birth": "2017-03-14", "gender": "female"}
PERSONAL_VALUES = (
    "Testchild",
    "2017-03-14",
    "12 Imaginary Row, Fenmere",
    "07700 900123",
    "bruise on the left forearm",
    "Pat Example",
)


def school_referral(**overrides: Any) -> dict[str, Any]:
    """A school DSL refers visible bruising and a disclosure to CSC, police and the GP (M01)."""
    notification: dict[str, Any] = {
        "message_type": "safeguarding_referral",
        "schema_version": "1.0",
        "notification_id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC).isoformat(),
        "purpose": "safeguarding_concern",
        "purpose_statement": "Child disclosed being hit at home; needs assessment for significant harm.",
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
            "parent_withheld_permission": None,
            "reason_not_informed": "risk_significant_harm",
        },
        "authorisation": None,
        "risk": {
            "immediate_significant_harm": False,
            "likely_significant_harm": True,
            "serious_harm_to_adult": False,
            "risk_to_others": False,
            "crime_suspected": True,
        },
        "subjects": [{"subject_ref": "child-1", "role_in_case": "child", "age_years": 9}],
        "sender": {
            "agency_id": "school-oakfield-primary",
            "role": "dsl",
            "user_ref": "dsl-01",
            "is_professional": True,
        },
        "recipients": [
            {"agency_id": "csc-fenmere-mash", "role": "mash_intake", "need_to_know": "assess_and_decide"},
            {"agency_id": "police-fenmere", "role": "police_public_protection", "need_to_know": "investigate_crime"},
            {"agency_id": "housing-brookside", "role": "housing_officer", "need_to_know": "provide_support"},
        ],
        "payload": {
            "child": CHILD_NAME,
            "concern_summary": "Child showed a bruise on the left forearm and said a parent hit her.",
            "current_location": "At school until 15:15",
            "home_address": "12 Imaginary Row, Fenmere",
            "parent_contact": "07700 900123",
            "referrer": {"name": "Pat Example", "job_title": "Designated Safeguarding Lead"},
        },
    }
    merged = copy.deepcopy(notification)
    merged.update(overrides)
    if "subjects" in overrides and "consent" not in overrides and merged["subjects"]:
        # The parent's position is about the child referred: the first of the subjects given.
        for consent in merged["consent"]:
            consent["subject_ref"] = merged["subjects"][0]["subject_ref"]
    return merged


def decided_entry(
    outcome: str,
    *reasons: tuple[str, str],
    basis: str | None = None,
    deciding: tuple[str, ...] = (),
    message_type: str = "strategy_discussion_request",
) -> audit.Entry:
    """A `decided` entry as the log holds it, with (rule, message) reasons, for tests that read entries
    without a gateway; its hashes are placeholders."""
    return audit.Entry(
        seq=7,
        recorded_at="2026-01-12T09:30:00.000000Z",
        notification_id="n-1",
        delivery_id="d-1",
        kind="decided",
        outcome=outcome,
        sender_agency="school-example",
        sender_role="dsl",
        recipient_agency="csc-example",
        message_type=message_type,
        reasons=[{"rule": r, "message": m} for r, m in reasons],
        lawful_basis=basis,
        fields_released=[],
        follows=[],
        subjects=[],
        deciding_rules=list(deciding),
        leaf_hash="0" * 64,
        chain_hash="0" * 64,
    )


def ui_session(agency_id: str, agency_type: str, user: str, now: datetime) -> UiSession:
    """A guided form's session, for building what a person's answers send without signing in."""
    return UiSession(
        id_digest="-",
        agency_id=agency_id,
        agency_type=agency_type,
        role="practitioner",
        user=user,
        jti="-",
        key_id="-",
        csrf_token="-",
        created_at=now,
        expires_at=now,
        hard_expiry=now,
    )


def logged_decision(engine: Engine, notification_id: str, recipient: str) -> audit.Entry:
    """The decision the log holds for one recipient of a notification."""
    with Session(engine) as session:
        return session.exec(
            select(audit.Entry).where(
                col(audit.Entry.notification_id) == notification_id,
                col(audit.Entry.kind) == audit.EventKind.DECIDED,
                col(audit.Entry.recipient_agency) == recipient,
            )
        ).one()


def asked_roles(engine: Engine, notification_id: str) -> dict[str, str]:
    """The team each recipient of a notification was addressed to, as the policy was asked it."""
    with Session(engine) as session:
        (document,) = session.exec(
            select(PolicyInputRecord.document).where(col(PolicyInputRecord.notification_id) == notification_id)
        ).all()
    asked = json.loads(document) if isinstance(document, str) else document
    return {r["agency_id"]: r["role"] for r in asked["recipients"]}


def shared_draft(notification_id: str, recipient: str, **extra: Any) -> audit.EntryDraft:
    """A school DSL's referral decided `share` for `recipient`, as a draft to append to a log without a
    gateway; `extra` sets or replaces any field of the entry (its reasons, basis, actor, a later kind)."""
    fields: dict[str, Any] = {
        "notification_id": notification_id,
        "delivery_id": f"{notification_id}.{recipient}",
        "kind": audit.EventKind.DECIDED,
        "outcome": "share",
        "sender_agency": "school-oakfield-primary",
        "sender_role": "dsl",
        "recipient_agency": recipient,
        "message_type": "safeguarding_referral",
    }
    return audit.EntryDraft(**(fields | extra))


def keeping(document: dict[str, Any]) -> Callable[[Session, list[audit.Entry]], None]:
    """The append's `then`: keep `document` as the policy input of the entries appended, as the gateway
    keeps it (`broker.sharing.record`)."""

    def keep(session: Session, entries: list[audit.Entry]) -> None:
        audit.insert_now(session, audit_replay.INPUT_TABLE, [audit_replay.input_row(entries, document)])

    return keep
