"""The guided form and the idle limit: a person writing a long step can keep their session, and is told
when the answers would be lost.

The answers live on the page until Send (nothing is drafted on the server, so an idle browser left
signed out holds no case). Before, the only way to renew the idle limit was to finish a step: a long
step written in more than the limit (30 minutes) ended in the sign-in page and the answers were gone,
with no warning. Over HTTP against the real gateway (its OPA decides every dry run).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from broker.partnership.cli import issue_token
from broker.ui.form_types import sendable
from broker.ui.policy_pack import PolicyPack
from broker.ui.sessions import UiSession
from devstack.partnership import LocalPartnership
from tests.broker.conftest import AUDIENCE, Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.ui.form_walk import sign_in, walk

pytestmark = pytest.mark.stack

HV = "health-visiting-fenmere"
STEP = re.compile(r"<h2>Step (\d+) of \d+")


def _expiry(gateway: Gateway) -> datetime:
    with Session(gateway.engine) as session:
        (row,) = session.exec(select(UiSession)).all()
        return row.expires_at.replace(tzinfo=UTC) if row.expires_at.tzinfo is None else row.expires_at


def _expire_soon(gateway: Gateway) -> None:
    with Session(gateway.engine) as session, session.begin():
        session.execute(update(UiSession).values(expires_at=datetime.now(UTC) + timedelta(minutes=1)))


async def test_save_and_stay_keeps_a_half_written_step_and_renews_the_idle_limit(
    gateway_factory: GatewayFactory,  # noqa: F811
    partnership: LocalPartnership,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    token = issue_token(partnership.agency_keys(HV), role="practitioner", audience=AUDIENCE, subject="writer-01")
    csrf = await sign_in(gateway.client, token)
    first = (await gateway.client.get("/ui/submit")).text
    assert "you are signed out and they are lost" in first, "the page says when the answers would go"
    notification_id = re.findall(r'name="notification_id" value="([^"]+)"', first)[0]
    answers = {"notification_id": notification_id, "message_type": "safeguarding_referral", "csrf_token": csrf}
    second = await gateway.client.post("/ui/submit", data={**answers, "step": "0"})
    assert _step(second.text) == "2"

    _expire_soon(gateway)
    half = {**answers, "step": "1", "go": "stay", "purpose_statement": "Fictional: half of a long account"}
    kept = await gateway.client.post("/ui/submit", data=half)
    assert kept.status_code == 200, kept.text[-1500:]
    assert _step(kept.text) == "2", "still on the step being written"
    assert 'role="alert"' not in kept.text, "a half-written step is not checked yet"
    assert "Fictional: half of a long account" in kept.text
    assert _expiry(gateway) > datetime.now(UTC) + timedelta(minutes=25), "the press renewed the idle limit"


async def test_enter_in_a_field_continues_and_never_sends(
    gateway_factory: GatewayFactory,  # noqa: F811
    partnership: LocalPartnership,
    opa_url: str,
) -> None:
    """A browser presses a form's first button on Enter: it was Back on every step after the first (a
    person pressing Enter in a field went back a step). Now Continue while filling in; on the check
    page, where Send is, Back stays first."""
    gateway = await gateway_factory(ui_cookie_secure=False)
    token = issue_token(partnership.agency_keys(HV), role="practitioner", audience=AUDIENCE, subject="writer-02")
    csrf = await sign_in(gateway.client, token)
    first = (await gateway.client.get("/ui/submit")).text
    assert _buttons(first) == ["next", "stay"]
    notification_id = re.findall(r'name="notification_id" value="([^"]+)"', first)[0]
    answers = {"notification_id": notification_id, "message_type": "safeguarding_referral", "csrf_token": csrf}
    second = (await gateway.client.post("/ui/submit", data={**answers, "step": "0"})).text
    assert _step(second) == "2" and _buttons(second) == ["next", "stay", "back"]
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, HV)
    form = next(t for t in types if t.rules.catalogue_id == "M01")
    check, _ = await walk(gateway.client, csrf, types, form, "health_community")
    assert _buttons(check) == ["back", "send"]


def _buttons(page: str) -> list[str]:
    return re.findall(r'<button type="submit" name="go" value="(\w+)"', page)


def _step(page: str) -> str:
    found = STEP.search(page)
    assert found is not None, page[-1500:]
    return found.group(1)
