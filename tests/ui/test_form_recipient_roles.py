"""The guided form addresses each agency only to the role queues the policy lets the notification reach.

C4 refuses a role queue not among a type's `recipient_roles` (at a stage, its `stage_recipient_roles`)
in the policy pack: additional information (M04) goes to the allocated social worker, the duty team or a
team manager, never the MASH intake; a professional disagreement (M33) to the intake or a team manager,
never the social worker whose decision it disputes (domain.md §6.1). The form offers those teams alone,
the first allowed by default, and the team manager only where the pack names it. The unit tests read
the pack's own file; the walks run on the real gateway, its OPA deciding every dry run.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from audit.models import Entry
from broker.partnership.cli import issue_token
from broker.partnership.registry import load_registry
from broker.ui.form_fields import Step
from broker.ui.form_recipients import recheck
from broker.ui.form_types import FormType, offered, recipient_options, recipient_queues, sendable
from broker.ui.forms import NEED_TO_KNOW
from broker.ui.policy_pack import PolicyPack, TypeRules, rules_of
from devstack.partnership import LocalPartnership
from tests.broker.conftest import AUDIENCE, Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_form_recipient_team import _asked_roles
from tests.ui.test_ui_review_fixes import _hidden

SCHOOL, CSC, LADO = "school-oakfield-primary", "csc-fenmere-mash", "lado-fenmere"
PACK = json.loads((Path(__file__).resolve().parents[2] / "policies/safeguarding/config/data.json").read_text())
RULES = {k: rules_of(k, v) for k, v in PACK["message_types"].items()}
SHARED = ("share", "share_minimised", "share_urgent_review_after")


def _form(agency_type: str, catalogue_id: str, pack: dict[str, TypeRules] = RULES) -> FormType:
    return next(t for t in offered(pack, agency_type) if t.rules.catalogue_id == catalogue_id)


def _queues(form: FormType, agency_type: str, sender_type: str, **facts: str) -> tuple[str, ...]:
    allowed = form.rules.roles_at(agency_type, facts, sender_type=sender_type, stages=form.stages)
    return recipient_queues(agency_type, form, allowed)


def test_the_pack_limits_the_teams_a_type_reaches_and_the_first_allowed_is_the_default() -> None:
    school = "education_school"
    m04, m33 = _form(school, "M04"), _form(school, "M33")
    assert m04.rules.recipient_roles == ("edt", "social_worker", "team_manager")
    # Additional information goes to the child's allocated social worker first (domain.md M04).
    assert _queues(m04, "csc_front_door", school) == ("social_worker", "edt", "team_manager")
    assert _queues(m04, "csc_team", school) == ("social_worker", "team_manager")
    # A disagreement goes to the intake or to a manager, never to the social worker it disputes.
    assert _queues(m33, "csc_front_door", school) == ("mash_intake", "team_manager")
    assert _queues(m33, "csc_team", school) == ("team_manager",)
    # A type that may go to any role is offered the usual teams, never the manager, as before.
    m01 = _form("health_community", "M01")
    assert m01.rules.roles_at("csc_front_door", {}, sender_type="health_community") is None
    assert _queues(m01, "csc_front_door", "health_community") == ("mash_intake", "social_worker", "edt")
    # A police notice to a school goes to its DSL, which the pack names.
    assert _queues(_form("police", "M35"), "education_school", "police") == ("dsl",)


def test_a_stage_with_its_own_roles_replaces_the_types_and_none_listed_means_any() -> None:
    m32 = _form("education_school", "M32")
    asked = m32.rules.roles_at("police", {"stage": "request"}, sender_type="education_school", stages=m32.stages)
    assert asked == frozenset(m32.rules.recipient_roles) >= {"dsl", "ig_lead", "caldicott_guardian"}
    # The adviser's answer goes back to whoever asked, so at that stage, and before one is given, any role.
    assert m32.rules.roles_at("police", {"stage": "advice_given"}, sender_type="lado", stages=m32.stages) is None
    assert m32.rules.roles_at("police", {}, sender_type="education_school", stages=m32.stages) is None
    assert _queues(m32, "police", "education_school", stage="request") == ("safeguarding_lead",)
    assert _queues(m32, "lado", "education_school", stage="request") == ()  # a LADO officer is no adviser
    assert _queues(m32, "education_school", "police", stage="request") == ("dsl",)


def test_an_agency_none_of_whose_teams_the_pack_allows_is_not_offered() -> None:
    only_gps = dataclasses.replace(RULES["additional_information"], recipient_roles=("gp",))
    form = _form("education_school", "M04", {**RULES, "additional_information": only_gps})
    assert form.rules.received_by("csc_front_door", {}, sender_type="education_school")
    assert _queues(form, "csc_front_door", "education_school") == ()


@pytest.mark.stack  # the tests' partnership is provisioned on the stack
def test_a_stage_that_leaves_out_the_chosen_team_brings_the_recipients_step_back(
    partnership: LocalPartnership,
) -> None:
    registry = load_registry(partnership.registry_file)
    lado = _form("lado", "M14")
    # A pack whose meeting invitation goes to a front door's manager alone: before the stage, any team.
    rules = dataclasses.replace(lado.rules, stage_recipient_roles={"amm_invitation": ("team_manager",)})
    form = dataclasses.replace(lado, rules=rules)
    before = {o["id"]: o for o in recipient_options(registry, LADO, form)}
    assert before[CSC]["role"] == "mash_intake" and "team_manager" not in before[CSC]["queues"].split()
    answers = {f"to:{CSC}": "mash_intake", f"as:{CSC}": "edt", f"ntk:{CSC}": NEED_TO_KNOW[0][0]}
    details = Step("details", "Details", "")
    assert recheck(registry, LADO, form, details, {**answers, "p:stage": "referral"}) is None
    again = recheck(registry, LADO, form, details, {**answers, "p:stage": "amm_invitation"})
    assert again is not None, "a team the stage refuses went on to the check step"
    assert "may go only to the team manager at Fenmere Children's Social Care MASH" in again.errors["recipients"]
    after = {o["id"]: o for o in recipient_options(registry, LADO, form, {"stage": "amm_invitation"})}
    assert after[CSC]["role"] == "team_manager"


# --- over HTTP, on the real gateway and OPA ----------------------------------------------------------


async def _school_dsl(factory: GatewayFactory, opa_url: str, catalogue_id: str) -> tuple[Gateway, str, list[FormType]]:
    """A school DSL signed in, and the types they may send, the one to walk first."""
    gateway = await factory(ui_cookie_secure=False)
    token = issue_token(gateway.partnership.agency_keys(SCHOOL), role="dsl", audience=AUDIENCE, subject="dsl-roles")
    csrf = await sign_in(gateway.client, token)
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, SCHOOL)
    return gateway, csrf, sorted(types, key=lambda t: t.rules.catalogue_id != catalogue_id)


def _teams(pages: list[str]) -> list[str]:
    """The teams the recipients step offers at the front door (one when it shows no choice)."""
    for page in pages:
        picked = re.search(rf'<select id="f-as:{CSC}" name="as:{CSC}">(.*?)</select>', page, re.S)
        if picked:
            return re.findall(r'<option value="([^"]+)"', picked.group(1))
    offered = next(p for p in pages if f'name="to:{CSC}"' in p)
    found = re.search(rf'name="to:{CSC}" value="([^"]+)"', offered)
    return [found.group(1)] if found else []


def _decided(check: str, gateway: Gateway) -> str:
    """The policy's outcome for the front door on the dry run's page, which says it in words too."""
    name = re.escape(gateway.registry.agencies[CSC].name)
    page = html.unescape(check)
    found = re.search(rf'<th scope="row">{name}</th>\s*<td><span class="badge o-([a-z_]+)">([^<]+)</span>', page)
    assert found is not None, check[-3000:]
    assert found.group(2).startswith("Shared") == (found.group(1) in SHARED), found.groups()
    return found.group(1)


@pytest.mark.stack
async def test_additional_information_goes_to_a_team_the_policy_allows(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway, csrf, types = await _school_dsl(gateway_factory, opa_url, "M04")
    form, seen = types[0], list[str]()
    assert form.rules.catalogue_id == "M04"
    given = {f"ntk:{CSC}": NEED_TO_KNOW[0][0]}
    check, answers = await walk(gateway.client, csrf, types, form, "education_school", given, seen)
    teams = _teams(seen)
    assert set(teams) == set(form.rules.recipient_roles) and "mash_intake" not in teams, teams
    assert answers[f"to:{CSC}"] == teams[0] == "social_worker", "not offered at the allocated social worker first"
    assert "goes only to the role queues" not in html.unescape(check)
    assert _decided(check, gateway) in SHARED


@pytest.mark.stack
async def test_a_professional_disagreement_goes_to_the_team_manager(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway, csrf, types = await _school_dsl(gateway_factory, opa_url, "M33")
    form, seen = types[0], list[str]()
    assert form.rules.catalogue_id == "M33"
    given = {f"ntk:{CSC}": NEED_TO_KNOW[0][0], f"as:{CSC}": "team_manager"}
    check, answers = await walk(gateway.client, csrf, types, form, "education_school", given, seen)
    teams = _teams(seen)
    assert "team_manager" in teams and "social_worker" not in teams, teams
    assert "(team manager)" in html.unescape(check).lower(), "the check step repeats the team picked"
    assert _decided(check, gateway) in SHARED
    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(check), **answers, "go": "send"})
    assert sent.status_code == 200, sent.text[-2000:]
    assert _asked_roles(gateway, answers["notification_id"])[CSC] == "team_manager"
    with Session(gateway.engine) as session:
        outcome = session.exec(
            select(Entry.outcome).where(
                col(Entry.notification_id) == answers["notification_id"], col(Entry.recipient_agency) == CSC
            )
        ).first()
    assert outcome in SHARED
