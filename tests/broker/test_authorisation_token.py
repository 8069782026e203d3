"""Issue 11: an authorisation is evidence only when the authoriser gave it, with their own token bound
to the notification's digest. A block the sender typed in leaves the share held; the log names the
authoriser, not the sender. On the real gateway (the stack's OPA)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import pytest
from sqlmodel import Session, select

import audit
from broker.admission.authorisation import DIGEST_CLAIM, HEADER, body_digest
from broker.partnership.cli import issue_token
from tests.broker.conftest import AUDIENCE, Gateway
from tests.broker.people import Person
from tests.policy.bases import consent_refused, patched

pytestmark = pytest.mark.stack

HV = "health-visiting-fenmere"
MANAGER = "hv-manager-02"
PRACTITIONER = "hv-practitioner-11"  # the sender: a person's token sends only as themselves
MASH = "csc-fenmere-mash"


def _referral(authoriser_ref: str = MANAGER) -> bytes:
    """A health visitor's referral the parents refused: the policy asks a manager (GR4)."""
    body = patched(
        "referral",
        {
            "notification_id": str(uuid.uuid4()),
            "sender": {"agency_id": HV, "role": "health_visitor", "user_ref": PRACTITIONER, "is_professional": True},
            "consent": consent_refused(),
            "parental_position": {"parents_informed": True, "parent_withheld_permission": True},
            "authorisation": {
                "authoriser_role": "line_manager",
                "authoriser_ref": authoriser_ref,
                "authorised_at": "2026-11-30T09:00:00Z",
                "reason": "Fictional: the risk outweighs the parents' refusal.",
            },
        },
    )
    return json.dumps(body).encode()


def _authoriser_token(gateway: Gateway, body: bytes, *, role: str = "line_manager", subject: str = MANAGER) -> str:
    keys = gateway.partnership.agency_keys(HV)
    bound = {DIGEST_CLAIM: body_digest(body)}
    return issue_token(keys, role=role, audience=AUDIENCE, subject=subject, extra_claims=bound)


async def _post(gateway: Gateway, body: bytes, authorisation: str | None = None) -> Any:
    sender = Person(gateway, HV, "practitioner", PRACTITIONER)
    headers = {**sender.headers(), "Content-Type": "application/json"}
    if authorisation is not None:
        headers[HEADER] = authorisation
    return await gateway.client.post("/v1/notifications", content=body, headers=headers)


def _entries(gateway: Gateway, kind: audit.EventKind) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        return list(session.exec(select(audit.Entry).where(audit.Entry.kind == kind)))


async def test_a_typed_in_authorisation_leaves_the_share_for_advice(gateway: Gateway) -> None:
    response = await _post(gateway, _referral())
    assert response.status_code == 202, response.text
    (mash,) = response.json()["recipients"]
    assert mash["outcome"] == "needs_advice", mash
    assert _entries(gateway, audit.EventKind.AUTHORISATION_GRANTED) == []


async def test_the_managers_own_token_for_this_body_is_evidence_and_logged_as_theirs(gateway: Gateway) -> None:
    body = _referral()
    response = await _post(gateway, body, _authoriser_token(gateway, body))
    assert response.status_code == 202, response.text
    (mash,) = response.json()["recipients"]
    assert mash["outcome"] == "share", mash
    assert any("line manager" in r["message"] for r in mash["reasons"] if r["rule"] == "GR4"), mash
    (decided,) = _entries(gateway, audit.EventKind.DECIDED)
    assert (decided.actor, decided.actor_role) == ("hv-practitioner-11", "practitioner")
    (granted,) = _entries(gateway, audit.EventKind.AUTHORISATION_GRANTED)
    assert (granted.actor, granted.actor_role, granted.actor_agency) == (MANAGER, "line_manager", HV)
    assert granted.delivery_id == decided.delivery_id == mash["delivery_id"]


@pytest.mark.parametrize(
    ("case", "loc"),
    [
        ("another body", ["header", HEADER]),  # the token binds a different notification
        ("the sender signs", ["header", HEADER]),  # no self-authorisation
        ("a practitioner", ["header", HEADER]),  # the access table gives them no authorising
        ("a role not granted", ["header", HEADER]),  # housing grants no named_professional
        ("names someone else", ["authorisation", "authoriser_ref"]),
    ],
)
async def test_a_token_that_does_not_prove_this_authorisation_is_a_422_and_nothing_is_written(
    gateway: Gateway, case: str, loc: list[str]
) -> None:
    body = _referral("someone-else" if case == "names someone else" else MANAGER)
    token = {
        "another body": lambda: _authoriser_token(gateway, _referral()),
        "the sender signs": lambda: _authoriser_token(gateway, body, subject=PRACTITIONER),
        "a practitioner": lambda: _authoriser_token(gateway, body, role="practitioner", subject="hv-colleague"),
        "a role not granted": lambda: issue_token(
            gateway.partnership.agency_keys("housing-brookside"),
            role="named_professional",
            audience=AUDIENCE,
            subject=MANAGER,
            extra_claims={DIGEST_CLAIM: body_digest(body)},
        ),
        "names someone else": lambda: _authoriser_token(gateway, body),
    }[case]()
    response = await _post(gateway, body, token)
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [loc], response.text
    assert _entries(gateway, audit.EventKind.DECIDED) == []
    (refused,) = _entries(gateway, audit.EventKind.ACCESS_REFUSED)  # for the agency's IG lead to see
    assert (refused.actor, refused.actor_agency) == ("hv-practitioner-11", HV)
    assert refused.reasons[0]["message"].startswith(f"POST /v1/notifications: invalid_notification: {'.'.join(loc)}")


async def test_the_readme_command_signs_a_token_the_gateway_accepts(gateway: Gateway, tmp_path: Any) -> None:
    """README, 'Who can see and do what': the operator's command for an authoriser's token."""
    body = _referral()
    (tmp_path / "notification.json").write_bytes(body)
    printed = subprocess.run(
        [
            *(sys.executable, "-m", "broker.partnership.cli", "issue-token"),
            *("--keys", str(gateway.partnership.agency_keys_dir(HV)), "--agency", HV, "--role", "line_manager"),
            *("--subject", MANAGER, "--audience", AUDIENCE, "--authorises", str(tmp_path / "notification.json")),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    response = await _post(gateway, body, printed.stdout.strip())
    assert response.status_code == 202, response.text
    assert [r["outcome"] for r in response.json()["recipients"]] == ["share"]


async def test_a_correction_carries_the_managers_token_as_the_first_notification_could(gateway: Gateway) -> None:
    first = _referral()
    held = await _post(gateway, first)
    assert held.status_code == 202, held.text
    assert [r["outcome"] for r in held.json()["recipients"]] == ["needs_advice"]
    corrected = _referral()
    sender = Person(gateway, HV, "practitioner", PRACTITIONER)
    headers = {**sender.headers(), "Content-Type": "application/json", HEADER: _authoriser_token(gateway, corrected)}
    response = await gateway.client.post(
        f"/v1/notifications/{held.json()['notification_id']}/correction", content=corrected, headers=headers
    )
    assert response.status_code == 202, response.text
    (mash,) = response.json()["replacement"]["recipients"]
    assert mash["outcome"] == "share", mash
    (granted,) = _entries(gateway, audit.EventKind.AUTHORISATION_GRANTED)
    assert (granted.actor, granted.actor_role, granted.delivery_id) == (MANAGER, "line_manager", mash["delivery_id"])


async def test_the_person_an_agency_system_sends_for_may_not_authorise_it(gateway: Gateway) -> None:
    """An agency system posts for the practitioner its body names (`sender.user_ref`): that person is the
    sender, so their own token is no one else's agreement (golden rule 4), however the body came."""
    payload = json.loads(_referral())
    payload["sender"]["user_ref"] = MANAGER
    body = json.dumps(payload).encode()
    system = gateway.token(HV)  # an agency system's token names no person
    headers = {"Authorization": f"Bearer {system}", "Content-Type": "application/json"}
    headers[HEADER] = _authoriser_token(gateway, body)
    response = await gateway.client.post("/v1/notifications", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [["header", HEADER]], response.text
    assert _entries(gateway, audit.EventKind.DECIDED) == []
    assert _entries(gateway, audit.EventKind.AUTHORISATION_GRANTED) == []


async def test_a_manager_whose_sub_is_an_address_is_named_and_compared_as_a_reference(gateway: Gateway) -> None:
    """A `sub` holding @ / + = is named in a body with - in their place (README): such a manager authorises
    under that name, and the same person the body names as sending may not authorise it."""
    address, named = "hv.manager@fenmere.example", "hv.manager-fenmere.example"
    body = _referral(authoriser_ref=named)
    response = await _post(gateway, body, _authoriser_token(gateway, body, subject=address))
    assert response.status_code == 202, response.text
    assert response.json()["recipients"][0]["outcome"] == "share", response.text
    payload = json.loads(_referral(authoriser_ref=named))
    payload["sender"]["user_ref"] = named
    own = json.dumps(payload).encode()
    system = gateway.token(HV)
    headers = {"Authorization": f"Bearer {system}", "Content-Type": "application/json"}
    headers[HEADER] = _authoriser_token(gateway, own, subject=address)
    refused = await gateway.client.post("/v1/notifications", content=own, headers=headers)
    assert refused.status_code == 422, refused.text
    assert [e["loc"] for e in refused.json()["errors"]] == [["header", HEADER]], refused.text
