"""The guided form asks for the agencies a procedure says a notification must reach (`broker.ui.form_musts`).

A reviewer acting as a partnership's safeguarding business manager found that a strategy discussion
about a child causing harm to a parent or carer could be sent without adult care, which the CPCH
policy says it must include, and a radicalisation concern about a family with known extremists
without children's social care. The procedure is known only from the details step, after the
recipients are chosen, so that answer brings the recipients step round again naming whom to add.
Against the real gateway and its OPA, with the tests' partnership (tests/fixtures/registry.json).
"""

from __future__ import annotations

import html

import pytest

from broker.partnership.cli import issue_token
from broker.ui.form_types import FormType, recipient_options, sendable
from broker.ui.policy_pack import PolicyPack
from tests.broker.conftest import AUDIENCE, Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_form_stage_recipients import _step

pytestmark = pytest.mark.stack

MASH, POLICE, ASC, SCHOOL = "csc-fenmere-mash", "police-fenmere", "asc-fenmere", "school-oakfield-primary"


async def _form(
    factory: GatewayFactory, opa_url: str, sender: tuple[str, str], message_type: str, to: tuple[str, ...]
) -> tuple[Gateway, str, list[FormType], dict[str, str]]:
    """A person signed in at `sender` (agency, role), the types it may send with `message_type` first,
    and `to` chosen as its recipients."""
    gateway = await factory(ui_cookie_secure=False)
    agency, role = sender
    token = issue_token(gateway.partnership.agency_keys(agency), role=role, audience=AUDIENCE, subject=f"{role}-m1")
    csrf = await sign_in(gateway.client, token)
    sent = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, agency)
    types = sorted(sent, key=lambda t: t.message_type != message_type)
    assert types[0].message_type == message_type, f"{agency} may not send {message_type}"
    roles = {o["id"]: o["role"] for o in recipient_options(gateway.registry, agency, types[0])}
    chosen = {f"to:{a}": roles[a] for a in to} | {f"ntk:{a}": "protect_child" for a in to}
    return gateway, csrf, types, chosen


@pytest.mark.parametrize(
    ("sender", "message_type", "fact", "missing"),
    [
        (
            (MASH, "practitioner"),
            "strategy_discussion_request",
            {"p:strategy_kind": "cpch"},
            "must include adult care",
        ),
        (
            (SCHOOL, "dsl"),
            "radicalisation_concern",
            {"p:family_links": "family_with_known_extremists"},
            "a child in a family with known extremists is referred to children",
        ),
    ],
)
async def test_a_procedure_that_names_an_agency_not_chosen_brings_the_recipients_step_back(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
    sender: tuple[str, str],
    message_type: str,
    fact: dict[str, str],
    missing: str,
) -> None:
    gateway, csrf, types, chosen = await _form(gateway_factory, opa_url, sender, message_type, (POLICE,))
    seen = list[str]()
    agency_type = gateway.registry.agencies[sender[0]].type
    with pytest.raises(AssertionError, match=missing):
        await walk(gateway.client, csrf, types, types[0], agency_type, chosen, seen, fact, first_agency=False)
    again = html.unescape(seen[-1])
    assert _step(again) == "Who needs to know", "the recipients step did not come round again"
    said = again.split('id="f-recipients"', 1)[1].split("</p>", 1)[0]
    wanted = "Fenmere Adult Social Care" if message_type == "strategy_discussion_request" else "Fenmere Children"
    assert missing in said and f"choose {wanted}" in said, said
    assert "(CPCH-Policy, 6." in said or "(CPSCP-Procedures, Violent extremism" in said, said


@pytest.mark.parametrize(
    ("sender", "message_type", "to", "fact"),
    [
        ((MASH, "practitioner"), "strategy_discussion_request", (POLICE, ASC), {"p:strategy_kind": "cpch"}),
        ((MASH, "practitioner"), "strategy_discussion_request", (POLICE,), {"p:strategy_kind": "standard_s47"}),
        ((SCHOOL, "dsl"), "radicalisation_concern", (POLICE,), {"p:family_links": "none_known"}),
        ((SCHOOL, "dsl"), "radicalisation_concern", (POLICE, MASH), {"p:family_links": "family_with_known_extremists"}),
    ],
)
async def test_with_the_named_agencies_chosen_or_no_such_procedure_the_form_goes_straight_on(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
    sender: tuple[str, str],
    message_type: str,
    to: tuple[str, ...],
    fact: dict[str, str],
) -> None:
    gateway, csrf, types, chosen = await _form(gateway_factory, opa_url, sender, message_type, to)
    seen = list[str]()
    agency_type = gateway.registry.agencies[sender[0]].type
    last, _ = await walk(gateway.client, csrf, types, types[0], agency_type, chosen, seen, fact, first_agency=False)
    assert [_step(p) for p in seen[1:]].count("Who needs to know") == 1
    assert "What each recipient would get" in last, last[-2000:]
