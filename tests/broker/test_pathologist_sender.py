"""The pathologist sends the post-mortem reports as `pathologist` (M19 pm_provisional_report and
pm_complete_report to the Coroner): a practitioner token may put that body role, once the registry
granted its agency `practitioner`; an agency not granted it is refused, and so is its system's token.

Source: CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from broker.app import create_app
from broker.review import access
from devstack.partnership import AgencySpec, LocalPartnership, provision
from tests.broker.conftest import Gateway, demo_agencies, demo_offices, gateway_settings
from tests.policy.bases import patched

GRANTED, NOT_GRANTED = "pathologist-fenmere", "pathologist-wessex"
CORONER = {"agency_id": "coroner-fenmere", "role": "coroners_officer", "need_to_know": "statutory_notification"}


def test_a_practitioner_sends_as_pathologist_and_an_agency_system_only_where_practitioner_is_granted() -> None:
    assert "pathologist" in access.SENDS_AS["practitioner"]
    assert access.sender_roles("agency_system", ["practitioner"], agency_type="pathologist") == {"pathologist"}
    assert not access.sender_roles("agency_system", ["dsl", "named_professional"], agency_type="pathologist")
    assert not access.sender_roles("named_professional", ["practitioner"], agency_type="pathologist")


@pytest.fixture(scope="module")
def pathology_partnership(tmp_path_factory: pytest.TempPathFactory, relay_namespace: str) -> LocalPartnership:
    partnership_id, specs = demo_agencies()
    extra = [
        AgencySpec(GRANTED, "pathologist", "Fenmere Paediatric Pathology (fictional)"),
        # A pathology service the registry granted no practitioner: its people may not send as one.
        AgencySpec(NOT_GRANTED, "pathologist", "Wessex Pathology (fictional)", roles=("dsl",)),
        AgencySpec("coroner-fenmere", "coroner", "Fenmere Coroner's Office (fictional)"),
    ]
    return provision(tmp_path_factory.mktemp("pathology"), partnership_id, specs + extra, demo_offices())


@pytest.fixture
async def pathology_gateway(
    pathology_partnership: LocalPartnership, sqlite_url: str, private_opa: str
) -> AsyncIterator[Gateway]:
    settings = gateway_settings(pathology_partnership, sqlite_url, opa_url=private_opa)
    app = create_app(settings)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            yield Gateway(app, client, settings, pathology_partnership)
    finally:
        await lifespan.__aexit__(None, None, None)


def _provisional_report(agency_id: str) -> dict[str, Any]:
    examined = datetime.now(UTC) - timedelta(days=2)
    body = {
        "notification_id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC).isoformat(),
        "sender": {"agency_id": agency_id, "role": "pathologist"},
        "recipients": [CORONER],
        "payload": {
            "died_at": (datetime.now(UTC) - timedelta(days=4)).isoformat(),
            "stage": "pm_provisional_report",
            "post_mortem_at": examined.isoformat(),
            "post_mortem_findings": "Fictional: preliminary cause of death; samples retained.",
        },
    }
    return patched("death", body)


async def _post(gateway: Gateway, agency_id: str, role: str, body: dict[str, Any]) -> httpx.Response:
    if role == "agency_system":
        token = gateway.token(agency_id, role=role)
    else:  # a person's token sends only as themselves
        token = gateway.token(agency_id, role=role, subject=body["sender"]["user_ref"])
    return await gateway.client.post("/v1/notifications", json=body, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.stack
@pytest.mark.parametrize("role", ["practitioner", "agency_system"])
async def test_a_pathologist_granted_the_role_sends_the_provisional_report(
    pathology_gateway: Gateway, role: str
) -> None:
    response = await _post(pathology_gateway, GRANTED, role, _provisional_report(GRANTED))
    assert response.status_code == 202, response.text
    assert response.json()["recipients"][0]["outcome"] in {"share", "share_minimised"}, response.text


@pytest.mark.stack
async def test_a_pathologist_not_granted_the_role_is_refused(pathology_gateway: Gateway) -> None:
    # A practitioner token the registry never granted this agency: refused before the body is read.
    response = await _post(pathology_gateway, NOT_GRANTED, "practitioner", _provisional_report(NOT_GRANTED))
    assert response.status_code == 401, response.text
    assert response.json()["reason"] == "role_not_granted"
    # Its system's token sends only as the roles its agency was granted, and no granted role is a
    # pathologist, the one role a pathology service has.
    response = await _post(pathology_gateway, NOT_GRANTED, "agency_system", _provisional_report(NOT_GRANTED))
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["loc"], error["type"]) == (["sender", "role"], "sender_mismatch")
    assert error["msg"] == (
        f"an agency_system token of {NOT_GRANTED}, a pathologist agency, may not send: "
        "it has none of the roles this token sends as"
    )
