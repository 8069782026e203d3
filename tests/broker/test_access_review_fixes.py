"""Authentication and authorisation defects found in review, each pinned on the real gateway (or the
token verifier alone where no gateway is needed).

- a token whose `exp` lies beyond the calendar is refused as an invalid claim (401), not a crash (500);
- an authoriser's `Authorisation-Token`, bound to one notification, is not a bearer credential;
- a UI session ends once the token key that opened it is rotated out;
- a recipient agency sees a decision about it only if it was shared with it: a no-share, or a share
  still held for advice or authorisation, is not shown (its existence is what the policy withheld).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest

from broker.admission.authorisation import DIGEST_CLAIM, body_digest
from broker.admission.tokens import verify_token
from broker.errors import InvalidClaim
from broker.partnership.cli import issue_token
from broker.partnership.keys import load_agency_keys
from devstack.partnership import LocalPartnership
from tests.broker.conftest import AUDIENCE, Gateway, GatewayFactory
from tests.broker.people import Person
from tests.factories import school_referral

HV, POLICE, HOUSING = "health-visiting-fenmere", "police-fenmere", "housing-brookside"
SCHOOL = "school-oakfield-primary"
POLL = 0.1


# --- a token's instants --------------------------------------------------------------------------


@pytest.mark.stack
@pytest.mark.parametrize("exp", [253402300800, 10**15, 10**20])  # year 10000, past time_t, past a double's range
async def test_an_expiry_beyond_the_calendar_is_an_invalid_claim_not_a_crash(gateway: Gateway, exp: int) -> None:
    keys = gateway.partnership.agency_keys(HV)
    key = keys.current_jwt_key
    now = int(time.time())
    claims = {"iss": HV, "aud": AUDIENCE, "iat": now, "exp": exp, "jti": str(uuid.uuid4()), "role": "agency_system"}
    token = jwt.encode(claims, key.private_key, algorithm=key.alg, headers={"kid": key.kid})
    with pytest.raises(InvalidClaim):
        verify_token(token, registry=gateway.registry, audience=AUDIENCE)
    answer = await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401, answer.text
    assert answer.json()["reason"] == "invalid_claim", answer.text


# --- an authoriser's token -----------------------------------------------------------------------


@pytest.mark.stack
async def test_an_authorisation_token_is_not_a_bearer_token(gateway: Gateway) -> None:
    """A manager's token bound to one body, handed to the sender to attach, must not let its holder
    act as that manager: read the authorisation queue, answer another held share, open a UI session."""
    body = json.dumps(school_referral()).encode()
    bound = issue_token(
        gateway.partnership.agency_keys(HV),
        role="line_manager",
        audience=AUDIENCE,
        subject="hv-manager-02",
        extra_claims={DIGEST_CLAIM: body_digest(body)},
    )
    queues = await gateway.client.get("/v1/queues", headers={"Authorization": f"Bearer {bound}"})
    assert queues.status_code == 401, queues.text
    assert queues.json()["reason"] == "invalid_claim", queues.text
    unbound = gateway.token(HV, role="line_manager", subject="hv-manager-02")
    assert (await gateway.client.get("/v1/queues", headers={"Authorization": f"Bearer {unbound}"})).status_code == 200


# --- a UI session and its token key --------------------------------------------------------------


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "broker.partnership.cli", *args], check=True, capture_output=True, text=True)


@pytest.mark.stack
async def test_a_ui_session_ends_when_the_key_that_opened_it_is_rotated_out(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path
) -> None:
    """An agency rotating with no grace says its old key may be in someone else's hands: a session
    that key opened must not go on for hours."""
    path = tmp_path / "registry.json"
    path.write_bytes(partnership.registry_file.read_bytes())
    gateway: Gateway = await gateway_factory(registry_file=path, registry_poll_seconds=POLL)
    person = Person(gateway, HV, "dsl", "hv-dsl-rotated")
    await person.sign_in()
    try:
        assert (await person.page("GET", "/ui/decisions")).status_code == 200
        before = gateway.registry.revision
        hv_keys = tmp_path / "hv-keys"
        shutil.copytree(partnership.agency_keys_dir(HV), hv_keys)
        signer = ("--by", "ops-admin-01", "--broker-keys", str(partnership.broker_keys_dir))
        _cli("rotate", "--registry", str(path), "--agency", HV, "--keys", str(hv_keys), "--grace-minutes", "0", *signer)
        deadline = asyncio.get_running_loop().time() + 10
        while gateway.registry.revision == before and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(POLL)
        assert gateway.registry.revision != before, "the rotated registry was not taken into use"
        await asyncio.sleep(1.1)  # past the old key's not_after (whole seconds in the registry)
        after = await person.page("GET", "/ui/decisions")
        assert (after.status_code, after.headers.get("location")) == (303, "/ui/signin"), after.text[:200]
        fresh = issue_token(load_agency_keys(hv_keys), role="dsl", audience=AUDIENCE, subject="hv-dsl-rotated")
        again = await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {fresh}"})
        assert again.status_code == 200, "the new key signs in as before"
    finally:
        await person.close()


# --- what a recipient agency sees ----------------------------------------------------------------


async def _listed(gateway: Gateway, agency: str, role: str = "agency_system") -> list[dict[str, Any]]:
    token = gateway.token(agency, role=role)
    headers = {"Authorization": f"Bearer {token}"}
    answer = await gateway.client.get("/v1/decisions", params={"limit": 200}, headers=headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def _detail(gateway: Gateway, agency: str, seq: int) -> int:
    token = gateway.token(agency)
    answer = await gateway.client.get(f"/v1/decisions/{seq}", headers={"Authorization": f"Bearer {token}"})
    return answer.status_code


@pytest.mark.stack
async def test_a_recipient_does_not_see_a_no_share_about_it(gateway: Gateway) -> None:
    response = await gateway.post(school_referral())
    assert response.status_code == 202, response.text
    outcomes = {r["agency_id"]: r["outcome"] for r in response.json()["recipients"]}
    assert outcomes[HOUSING] == "no_share", outcomes
    assert outcomes[POLICE].startswith("share"), outcomes
    assert await _listed(gateway, HOUSING) == [], "housing was told nothing, so it may not learn there was something"
    sender = {i["recipient_agency"]: i["seq"] for i in await _listed(gateway, SCHOOL)}
    assert await _detail(gateway, HOUSING, sender[HOUSING]) == 404
    assert [i["seq"] for i in await _listed(gateway, POLICE)] == [sender[POLICE]], "a share is the recipient's to see"
    assert await _detail(gateway, POLICE, sender[POLICE]) == 200


@pytest.mark.stack
async def test_a_recipient_sees_a_held_share_only_once_it_is_released(gateway: Gateway) -> None:
    sender = Person(gateway, HV, "practitioner", "hv-practitioner-31")
    held = await sender.send("needs_advice")  # to the police alone
    assert await _listed(gateway, POLICE) == [], "held for advice: not the police's yet"
    dsl = Person(gateway, HV, "dsl", "hv-dsl-31")
    released = await dsl.api(
        "POST", f"/v1/queues/{held['delivery_id']}", json={"decision": "release", "reason": "Advice: share it."}
    )
    assert released.status_code == 200, released.text
    assert [i["delivery_id"] for i in await _listed(gateway, POLICE)] == [held["delivery_id"]]


# --- a person named as a system ------------------------------------------------------------------


@pytest.mark.stack
async def test_a_person_may_not_carry_the_name_the_log_gives_the_agency_system(gateway: Gateway) -> None:
    """With it, a practitioner's "own" scope (what the log says they sent) reached everything their
    agency's systems sent."""
    sent = await gateway.post(school_referral())
    assert sent.status_code == 202, sent.text
    token = gateway.token(SCHOOL, role="practitioner", subject=f"agency_system@{SCHOOL}")
    answer = await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401, answer.text
    assert answer.json()["reason"] == "invalid_claim", answer.text
