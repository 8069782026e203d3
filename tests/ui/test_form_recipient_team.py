"""A children's social care front door takes a notification at its intake, at its Emergency Duty Team
out of hours, or at the child's allocated social worker: the guided form lets the sender pick the team,
repeats it on the check step, and addresses the notification there; a team the front door does not
have is never addressed. On the real gateway and OPA."""

from __future__ import annotations

import html

import pytest

from broker.ui.form_types import sendable
from broker.ui.forms import NEED_TO_KNOW
from broker.ui.policy_pack import PolicyPack
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.factories import asked_roles
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_ui_review_fixes import _hidden

pytestmark = pytest.mark.stack

HV, CSC = "health-visiting-fenmere", "csc-fenmere-mash"


def _asked_roles(gateway: Gateway, notification_id: str) -> dict[str, str]:
    return asked_roles(gateway.engine, notification_id)


@pytest.mark.parametrize(("team", "addressed"), [("edt", "edt"), ("a_general_inbox", "mash_intake")])
async def test_the_sender_picks_the_front_doors_team(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
    team: str,
    addressed: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    csrf = await sign_in(gateway.client, gateway.token(HV, role="practitioner", subject="team-picker-01"))
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, HV)
    form = next(t for t in types if t.rules.catalogue_id == "M01")
    given = {f"to:{CSC}": "mash_intake", f"ntk:{CSC}": NEED_TO_KNOW[0][0], f"as:{CSC}": team}
    seen: list[str] = []
    check, answers = await walk(gateway.client, csrf, types, form, "health_community", given=given, seen=seen)
    assert any(f'<select id="f-as:{CSC}" name="as:{CSC}">' in page for page in seen), "the team is asked"
    said = html.unescape(check)
    if team == "edt":
        assert "(emergency duty team)" in said.lower(), "the check step repeats the team picked"
    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(check), **answers, "go": "send"})
    assert sent.status_code == 200, sent.text[-2000:]
    assert _asked_roles(gateway, answers["notification_id"])[CSC] == addressed
