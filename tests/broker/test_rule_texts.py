"""A finding's source text as a decision cites it: the rule's own sources, and a procedure's clause only on
decisions of that procedure's message type (`custom.source_for`).

Read from the modules the stack's OPA serves, so the shipped METADATA is what is checked; the shapes a
module could carry by mistake are read from hand-made annotations."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from broker.review.views import summary
from broker.sharing.policy import PolicyEngine
from broker.sharing.rules import RuleCatalogue, RuleText, from_policies
from devstack import opa
from devstack.settings import StackSettings
from tests.factories import decided_entry


async def _served(url: str) -> dict[str, RuleText]:
    """The rule texts of the policy the stack's OPA serves, as the gateway's catalogue reads them."""
    async with PolicyEngine(url, timeout=10, entrypoint="safeguarding/decision/decision") as engine:
        return from_policies(await engine.policy_modules())


def _module(custom: dict[str, Any]) -> dict[str, Any]:
    return {"ast": {"annotations": [{"title": "C9 a rule", "custom": {"rule_id": "C9", **custom}}]}}


@pytest.mark.stack
async def test_the_served_policy_cites_each_procedure_on_its_own_message_type_only() -> None:
    rules = await _served(opa.url(StackSettings()))
    general = {rule: rules[rule].on(None).source or "" for rule in ("C4", "C5", "C6")}
    assert general["C4"].startswith(
        "CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 4"
    )
    assert general["C4"].endswith('"to provide advice and guidance on appropriate information sharing"'), general["C4"]
    assert "LADO" not in general["C4"] and "Disclosure Scheme" not in general["C5"]
    # The Coroner's discretion is child death's procedure (sg-policy-0.7.30): an offender notice cited it.
    assert "Transfer of Responsibility" not in general["C6"] and "Coroner" not in general["C6"], general["C6"]
    for rule, kind, clause in (
        ("C4", "lado_allegation", "; CPSCP-Procedures, LADO > 3. General Considerations"),
        ("C5", "csod_disclosure", "; CPSCP-Procedures, Information sharing > Child Sex Offender Disclosure Scheme"),
        ("C6", "child_move_transfer", "; CPSCP-Procedures, Transfer of Responsibility for Children Who Move"),
        ("C6", "child_death_notification", "; CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist"),
    ):
        cited = rules[rule].on(kind).source or ""
        assert cited.startswith(general[rule] + clause), cited
        assert rules[rule].on("missing_child").source == general[rule], "another type cites the rule alone"


@pytest.mark.stack
async def test_an_adults_decision_cites_no_procedure_for_a_childs_parents() -> None:
    """GR4's clause on parental consent to a request for services, and GR2's on a competent young
    person's wish that the parents not know, are cited on a child's referral, not on an adult's."""
    rules = await _served(opa.url(StackSettings()))
    for rule, clause in (("GR4", "Threshold policy > Parental Consent"), ("GR2", "Self-harm > Information Sharing")):
        assert clause in (rules[rule].on("safeguarding_referral").source or ""), rule
        for adult in ("adult_safeguarding_referral", "marac_referral"):
            cited = rules[rule].on(adult).source or ""
            assert cited.startswith("CPSCP-Procedures, Information sharing > The Seven Golden Rules"), cited
            assert clause not in cited, (rule, adult, cited)


def test_a_clause_keyed_by_several_message_types_is_cited_on_each() -> None:
    (text,) = from_policies(
        [_module({"source": "KEY-A, Part > 1", "source_for": {"a_type, b_type": "KEY-B, C"}})]
    ).values()
    assert [text.on(kind).source for kind in ("a_type", "b_type", "c_type")] == [
        "KEY-A, Part > 1; KEY-B, C",
        "KEY-A, Part > 1; KEY-B, C",
        "KEY-A, Part > 1",
    ]


@pytest.mark.stack
async def test_every_rule_the_policy_emits_cites_its_source_document() -> None:
    """A reader never meets a bare paraphrase where the policy could cite the procedure it applies."""
    url = opa.url(StackSettings())
    async with httpx.AsyncClient() as client:
        ranked = (await client.get(f"{url}/v1/data/safeguarding/decision/_rule_ranks")).json()["result"]
    rules = await _served(url)
    emitted = {rule for rule in ranked if not rule.startswith("SYS-")}
    assert {"GR1", "C3", "C7", "I11", "I14", "I15"} <= emitted, emitted
    uncited = {rule for rule in emitted if rule not in rules or not rules[rule].source}
    assert uncited == set(), "give each a `# METADATA` with custom.rule_id and custom.source"


def test_a_clause_of_the_wrong_shape_cites_nothing_extra() -> None:
    for source_for in ("LADO > 3", ["lado_allegation"], {"lado_allegation": 3}, None):
        (text,) = from_policies([_module({"source": "KEY-A, Part > 1", "source_for": source_for})]).values()
        assert text.on("lado_allegation").source == "KEY-A, Part > 1"


def test_a_rule_with_only_a_clause_cites_it_alone_on_its_type() -> None:
    (text,) = from_policies([_module({"source_for": {"lado_allegation": "KEY-B, LADO > 3"}})]).values()
    assert (text.on("lado_allegation").source, text.on("missing_child").source) == ("KEY-B, LADO > 3", None)


def test_a_rule_with_no_title_is_named_by_its_findings_first_clause() -> None:
    """The broker's own checks (SYS-*) carry no METADATA: a list names them by what they found, not "SYS-X"."""
    said = "A rule that must approve sharing gave no answer, so nothing is shared."
    entry = decided_entry("no_share", ("SYS-UNCLEARED", said), deciding=("SYS-UNCLEARED",))
    # Nothing loaded from OPA: the catalogue knows the rule only by its id.
    rules = RuleCatalogue(policy=PolicyEngine("http://127.0.0.1:9", timeout=1, entrypoint="x/y"))
    assert summary(entry, rules, overdue=False)["deciding_rule"] == {"rule": "SYS-UNCLEARED", "title": said[:-1]}
