"""What a notification asked for each recipient, read back from the policy input kept beside its decisions
(`broker.review.addressed`), on a real SQLite decision log: the team each was addressed to, in the order
of the decided entries, and each consent record's scope read as the policy reads it, for that recipient
alone. The agencies are fictional."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

import audit
from broker.db.log import DecisionLog
from broker.review.addressed import Addressed, Consent, addressed
from schemas.notifications import parse_notification
from schemas.policy_input import build_policy_input
from tests.factories import keeping, school_referral, shared_draft

SCHOOL, CSC, POLICE = "school-oakfield-primary", "csc-fenmere-mash", "police-fenmere"
TYPES = {CSC: "csc_front_door", POLICE: "police"}
TO = [
    {"agency_id": CSC, "role": "social_worker", "need_to_know": "assess_and_decide"},
    {"agency_id": POLICE, "role": "police_public_protection", "need_to_know": "investigate_crime"},
]
PUPIL = {"subject_ref": "pupil-7401", "role_in_case": "child", "age_years": 14, "gillick_competent": "yes"}


def _given(**scope: Any) -> dict[str, Any]:
    return {
        "subject_ref": "pupil-7401",
        "giver": "child",
        "status": "given_explicit",
        "privacy_notice_given": True,
        **scope,
    }


async def _kept(sqlite_url: str, consent: list[dict[str, Any]]) -> tuple[dict[int, Addressed], list[audit.Entry]]:
    """A referral to the front door and the police decided into a fresh log with its policy input, as
    the gateway keeps it (`broker.sharing.record`), and what `addressed` reads back of it."""
    body = school_referral(recipients=TO, subjects=[PUPIL], consent=consent)
    document = build_policy_input(parse_notification(body), "fenmere").model_dump(mode="json")

    signer = audit.Signer("test.broker.invalid/decision-log", Ed25519PrivateKey.generate())
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        # A decision of another notification first, so seqs and positions in the input differ.
        await decision_log.append([shared_draft("another", CSC)])
        entries = await decision_log.append(
            [shared_draft(body["notification_id"], a["agency_id"]) for a in TO], keeping(document)
        )
        with Session(decision_log.engine) as session:
            return addressed(session, body["notification_id"], TYPES), entries


async def test_each_decided_entry_reads_the_team_it_was_addressed_to(sqlite_url: str) -> None:
    asked, (to_csc, to_police) = await _kept(sqlite_url, [_given(scope_agencies=[CSC])])
    assert sorted(asked) == [to_csc.seq, to_police.seq] and to_csc.seq > 0, "by seq, not by position"
    assert (asked[to_csc.seq].role, asked[to_police.seq].role) == ("social_worker", "police_public_protection")


async def test_a_consent_covers_the_recipients_its_scope_names_by_id_and_no_other(sqlite_url: str) -> None:
    asked, (to_csc, to_police) = await _kept(sqlite_url, [_given(scope_agencies=[CSC])])
    covered = Consent("child", "given_explicit", covers_agency=True, covers_purpose=True, privacy_notice_given=True)
    assert asked[to_csc.seq].consent == (covered,)
    assert asked[to_police.seq].consent == (Consent("child", "given_explicit", False, True, True),)


async def test_a_scope_by_agency_type_covers_an_agency_of_that_type(sqlite_url: str) -> None:
    asked, (to_csc, to_police) = await _kept(sqlite_url, [_given(scope_agency_types=["police"])])
    assert [c.covers_agency for c in asked[to_police.seq].consent] == [True]
    assert [c.covers_agency for c in asked[to_csc.seq].consent] == [False], "one list given: the other names none"


async def test_no_scope_covers_everyone_and_a_purpose_left_out_is_said(sqlite_url: str) -> None:
    unlimited, purpose_elsewhere = _given(), _given(scope_purposes=["school_support"])
    refused = {"subject_ref": "pupil-7401", "giver": "parent_pr", "status": "refused"}
    asked, (_, to_police) = await _kept(sqlite_url, [unlimited, purpose_elsewhere, refused])
    bearing = [(c.giver, c.status, c.covers_agency, c.covers_purpose) for c in asked[to_police.seq].consent]
    assert bearing == [
        ("child", "given_explicit", True, True),
        ("child", "given_explicit", True, False),
        ("parent_pr", "refused", True, True),
    ]


async def test_a_notification_without_a_kept_input_reads_nothing(sqlite_url: str) -> None:
    signer = audit.Signer("test.broker.invalid/decision-log", Ed25519PrivateKey.generate())
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        await decision_log.append([shared_draft("older", CSC)])
        with Session(decision_log.engine) as session:
            assert addressed(session, "older", TYPES) == {}
