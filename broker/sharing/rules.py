"""What each rule id in a decision's reasons means, and the source text it comes from.

The Rego rules carry `# METADATA` with `custom.rule_id` and `custom.source` (a citation `KEY,
Chapter > Section` of the public source document, listed in policies/SOURCES.md, with a short
quotation), and `custom.source_for` where the procedure for one message type adds a clause of its
own (the LADO procedure's need to know, to C4), or a child's procedure adds one an adult's
notification must not cite (GR4's parental consent to a request for services): a finding cites that
clause only on decisions of the types its key names, so a missing-child notice's C4 does not quote the
LADO procedure, nor an adult's GR4 the parents' consent. OPA returns those
annotations with each module from `GET /v1/policies`, so the catalogue reads them from the policies
OPA is actually serving, not from a copy that could drift. When OPA cannot be asked, a built-in
one-line description of GR1-GR7 and C1-C8 (CPSCP-Procedures, Information sharing > The Seven Golden
Rules; > The Eight Caldicott Principles) stands in, so a reviewer is never left with a bare rule id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from broker.errors import PolicyUnavailable
from broker.sharing.policy import PolicyEngine

log = logging.getLogger("broker.rules")

# CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing (2018 wording)
# and > The Eight Caldicott Principles: the wording reviewers know.
BUILTIN: dict[str, tuple[str, str]] = {
    "GR1": (
        "Law is a framework, not a barrier",
        "GDPR, the Data Protection Act 2018 and human rights law are not barriers to justified sharing.",
    ),
    "GR2": (
        "Be open and honest",
        "Be open about why, what, how and with whom; seek agreement unless unsafe or inappropriate.",
    ),
    "GR3": (
        "Seek advice if in doubt",
        "Seek advice from other practitioners or the IG lead, without disclosing identity where possible.",
    ),
    "GR4": (
        "Consent where possible",
        "Share with consent where possible; without consent only on a lawful basis such as risk to safety.",
    ),
    "GR5": (
        "Safety and well-being",
        "Base decisions on the safety and well-being of the individual and others affected.",
    ),
    "GR6": (
        "Necessary, proportionate, relevant, adequate, accurate, timely and secure",
        "Share only what is needed, with those who need it, accurately, in time and securely.",
    ),
    "GR7": ("Keep a record", "Record the decision and the reasons for it, whether to share or not."),
    "C1": ("Justify the purpose", "Justify the purpose(s) for using confidential information."),
    "C2": ("Only if absolutely necessary", "Don't use personal confidential data unless it is absolutely necessary."),
    "C3": ("Minimum necessary", "Use the minimum necessary personal confidential data."),
    "C4": ("Need to know", "Access should be on a strict need-to-know basis."),
    "C5": (
        "Know your responsibilities",
        "Everyone with access to personal confidential data should be aware of their responsibilities.",
    ),
    "C6": ("Comply with the law", "Comply with the law."),
    "C7": (
        "The duty to share",
        "The duty to share information can be as important as the duty to protect confidentiality.",
    ),
    "C8": ("Inform people", "Inform patients and service users about how their confidential information is used."),
}


@dataclass(frozen=True)
class RuleText:
    rule: str
    title: str
    source: str | None
    origin: str  # "policy" (OPA METADATA) or "builtin"
    source_for: Mapping[str, str] = field(default_factory=dict)  # message type -> its procedure's clause

    def on(self, message_type: str | None) -> RuleText:
        """The text as one decision cites it: the rule's sources, then its message type's own clause."""
        extra = self.source_for.get(message_type or "")
        if extra is None:
            return self
        return replace(self, source=f"{self.source}; {extra}" if self.source else extra)


def from_policies(modules: list[dict[str, Any]]) -> dict[str, RuleText]:
    """Rule id -> text, from the modules OPA lists (each with `ast.annotations`)."""
    found: dict[str, RuleText] = {}
    for module in modules:
        for note in (module.get("ast") or {}).get("annotations") or []:
            custom = note.get("custom") or {}
            rule = custom.get("rule_id")
            if isinstance(rule, str) and rule not in found:
                source = custom.get("source")
                found[rule] = RuleText(
                    rule,
                    str(note.get("title") or rule),
                    source if isinstance(source, str) else None,
                    "policy",
                    _clauses(custom.get("source_for")),
                )
    return found


def clause_types(key: object) -> list[str]:
    """The message types one `custom.source_for` key names: one, or several comma-separated, so a clause
    that applies to a few types (a procedure for children, not adults) is written once."""
    return [kind.strip() for kind in str(key).split(",") if kind.strip()]


def _clauses(source_for: Any) -> dict[str, str]:
    """`custom.source_for` as message type -> clause; anything not of that shape cites nothing extra."""
    if not isinstance(source_for, dict):
        return {}
    return {kind: text for key, text in source_for.items() if isinstance(text, str) for kind in clause_types(key)}


class RuleCatalogue:
    """Rule texts from OPA, cached for a few minutes: policies change by deployment, not per request."""

    def __init__(self, *, policy: PolicyEngine, ttl_seconds: float = 300.0) -> None:
        self._policy = policy
        self._ttl = ttl_seconds
        self._rules: dict[str, RuleText] = {}
        self._loaded_at = float("-inf")

    async def refresh(self) -> None:
        if time.monotonic() - self._loaded_at < self._ttl:
            return
        try:
            modules = await self._policy.policy_modules()
        except PolicyUnavailable as exc:
            # Keep what we had; the built-in texts cover the golden rules and Caldicott principles.
            log.warning("rule metadata not available from OPA: %s", exc)
            return
        self._rules = from_policies(modules)
        self._loaded_at = time.monotonic()

    def describe(self, rule: str, *, message_type: str | None = None) -> RuleText:
        if rule in self._rules:
            return self._rules[rule].on(message_type)
        if rule in BUILTIN:
            title, text = BUILTIN[rule]
            return RuleText(rule, title, text, "builtin")
        return RuleText(rule, rule, None, "builtin")

    async def explain(self, reasons: list[dict[str, str]], *, message_type: str | None) -> list[dict[str, Any]]:
        """Each reason with its rule's title and source excerpt, as a decision on `message_type` cites it."""
        await self.refresh()
        out = []
        for reason in reasons:
            text = self.describe(reason.get("rule", ""), message_type=message_type)
            out.append(
                {
                    "rule": text.rule,
                    "message": reason.get("message", ""),
                    "title": text.title,
                    "source": text.source,
                    "source_origin": text.origin,
                }
            )
        return out
