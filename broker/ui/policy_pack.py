"""The policy pack's per-type facts the guided form needs, read from the OPA that decides.

The form asks for exactly what the policy will check (`policies/safeguarding/config/data.json`,
served by OPA as `data.safeguarding.config.message_types`): the purposes and lawful bases a type
allows, its mandatory fields (and those a purpose or a payload fact adds), whether the parents'
position must be recorded, which agency types may send and receive it (and those a payload fact's
value adds: the Virtual School for a looked-after child's placement notice), and which role queues at
them it may be addressed to (a professional disagreement goes to the intake or a team manager, not
the social worker it disagrees with). Read from OPA, not from a copy, so a policy change and the form
cannot drift; cached for a few minutes as the rule catalogue is. When OPA cannot be asked the form
cannot preview or send either, so it says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import aiohttp
from fastapi import Depends, Request
from pydantic import SecretStr

from broker.api.deps import settings_of
from broker.errors import PolicyUnavailable
from broker.sharing.policy import opa_headers

PACK_PATH = "/v1/data/safeguarding/config/message_types"


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


@dataclass(frozen=True)
class Condition:
    """Fields the policy requires when the purpose, or a payload fact, has a given value."""

    fields: tuple[str, ...]
    purpose: str | None = None
    fact: str | None = None
    value: str | None = None

    def holds(self, purpose: str | None, facts: dict[str, str]) -> bool:
        if self.purpose is not None:
            return purpose == self.purpose
        return self.fact is not None and facts.get(self.fact) == self.value


@dataclass(frozen=True)
class TypeRules:
    """One message type's entry in the policy pack, as far as the form is concerned."""

    message_type: str
    catalogue_id: str
    purposes: tuple[str, ...]
    lawful_bases: tuple[str, ...]
    mandatory: tuple[str, ...]
    conditions: tuple[Condition, ...]
    parental_position_required: bool
    consent_applies: bool
    advice_request: bool
    sender_types: tuple[str, ...]
    recipient_types: tuple[str, ...]
    stage_recipient_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stage_sender_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # fact -> its value -> the recipient types that value adds (the pack's `fact_recipient_types`).
    fact_recipient_types: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # The role queues C4 lets it be addressed to (the pack's `recipient_roles`; none listed: any), and
    # a stage's own (`stage_recipient_roles`; a stage listed with none: any, as an adviser's answer is).
    recipient_roles: tuple[str, ...] = ()
    stage_recipient_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def required_fields(self, purpose: str | None, facts: dict[str, str]) -> set[str]:
        """The payload fields the policy's adequacy check (GR6) will look for in this notification."""
        extra = {f for c in self.conditions if c.holds(purpose, facts) for f in c.fields}
        return set(self.mandatory) | extra

    def sent_by(self, agency_type: str) -> bool:
        return not self.sender_types or agency_type in self.sender_types

    def received_by(
        self, agency_type: str, facts: dict[str, str], *, sender_type: str, stages: Iterable[str] = ()
    ) -> bool:
        """Whether C4 would let an agency of this type receive, as far as the answers so far tell.

        A stage given with its own recipients allows those alone, as caldicott.rego reads the pack;
        any other, the type's and those a fact's value adds. Until the stage is given (the form asks
        it after the recipients), what any of `stages` this sender may send allows counts: a stage
        only the LADO sends never widens an employer's choice.
        """
        allowed = set().union(*(self._receivers(s, facts) for s in self._sendable(facts, sender_type, stages)))
        return not allowed or agency_type in allowed

    def roles_at(
        self, agency_type: str, facts: dict[str, str], *, sender_type: str, stages: Iterable[str] = ()
    ) -> frozenset[str] | None:
        """The role queues at an agency of this type C4 would let this be addressed to, as far as the
        answers so far tell; None: any role; empty: none (no stage it may be reaches this type).

        As caldicott.rego reads the pack: the stage's own roles where the pack lists the stage, else
        the type's. Until the stage is given, those of every stage this sender may send that reaches
        this type of agency, as `received_by` counts them; the stage once given may allow fewer.
        """
        found: set[str] = set()
        for stage in self._sendable(facts, sender_type, stages):
            receivers = self._receivers(stage, facts)
            if receivers and agency_type not in receivers:
                continue
            roles = self.stage_recipient_roles.get(stage, self.recipient_roles)
            if not roles:
                return None
            found.update(roles)
        return frozenset(found)

    def _sendable(self, facts: dict[str, str], sender_type: str, stages: Iterable[str]) -> list[str]:
        """The stages the notification may yet be: the one given, else those this sender may send
        ("" for a type without stages, which the pack's per-stage lists never name)."""
        given = facts.get("stage")
        found = [given] if given is not None else [s for s in stages if self.offers(s, sender_type=sender_type)]
        return found or [""]

    def _receivers(self, stage: str, facts: dict[str, str]) -> set[str]:
        return set(self.stage_recipient_types.get(stage) or (*self.recipient_types, *self.added_by(facts)))

    def offers(self, stage: str, *, sender_type: str) -> bool:
        """Whether the form offers this sender the stage: C1 lets them send it (a stage's own senders,
        else the type's; none listed: any agency), and it reaches another kind of agency than theirs
        (an agency's request for a disclosure goes to the police, so the police are not offered it)."""
        senders = self.stage_sender_types.get(stage) or self.sender_types
        receivers = set(self.stage_recipient_types.get(stage, ()))
        return (not senders or sender_type in senders) and receivers != {sender_type}

    def added_by(self, facts: dict[str, str]) -> tuple[str, ...]:
        """The recipient types these payload facts' values add, as caldicott.rego's C4 reads them."""
        return tuple(
            t for fact, by_value in self.fact_recipient_types.items() for t in by_value.get(facts.get(fact, ""), ())
        )

    def conditional_recipients(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """fact -> value -> the types only that value lets receive (not already receivers without it)."""
        always = set(self.recipient_types).union(*self.stage_recipient_types.values())
        return {
            fact: {value: tuple(t for t in types if t not in always) for value, types in by_value.items()}
            for fact, by_value in self.fact_recipient_types.items()
        }


def rules_of(message_type: str, entry: dict[str, Any]) -> TypeRules:
    conditions = tuple(
        Condition(
            fields=_strings(c.get("fields")),
            purpose=c.get("purpose") if isinstance(c.get("purpose"), str) else None,
            fact=c.get("fact") if isinstance(c.get("fact"), str) else None,
            value=c.get("value") if isinstance(c.get("value"), str) else None,
        )
        for c in entry.get("mandatory_when") or []
        if isinstance(c, dict)
    )
    stages = entry.get("stage_recipient_types") or {}
    senders = entry.get("stage_sender_types") or {}
    by_fact = entry.get("fact_recipient_types") or {}
    stage_roles = entry.get("stage_recipient_roles") or {}
    return TypeRules(
        message_type=message_type,
        catalogue_id=str(entry.get("catalogue_id") or ""),
        purposes=_strings(entry.get("purposes")),
        lawful_bases=_strings(entry.get("lawful_bases")),
        mandatory=_strings(entry.get("mandatory_fields")),
        conditions=conditions,
        parental_position_required=entry.get("parental_position_required") is True,
        consent_applies=entry.get("consent_applies") is True or bool(entry.get("consent_applies_when")),
        advice_request=entry.get("advice_request") is True,
        sender_types=_strings(entry.get("sender_types")),
        recipient_types=_strings(entry.get("recipient_types")),
        stage_recipient_types={k: _strings(v) for k, v in stages.items()} if isinstance(stages, dict) else {},
        stage_sender_types={k: _strings(v) for k, v in senders.items()} if isinstance(senders, dict) else {},
        fact_recipient_types=_by_fact(by_fact),
        recipient_roles=_strings(entry.get("recipient_roles")),
        stage_recipient_roles={k: _strings(v) for k, v in stage_roles.items()} if isinstance(stage_roles, dict) else {},
    )


def _by_fact(value: Any) -> dict[str, dict[str, tuple[str, ...]]]:
    if not isinstance(value, dict):
        return {}
    return {
        fact: {v: _strings(types) for v, types in by_value.items()}
        for fact, by_value in value.items()
        if isinstance(by_value, dict)
    }


class PolicyPack:
    """The pack's message types from OPA, refreshed at most every `ttl_seconds`."""

    def __init__(
        self, opa_url: str, *, timeout: float, ttl_seconds: float = 300.0, token: SecretStr | None = None
    ) -> None:
        self._url = opa_url.rstrip("/") + PACK_PATH
        self._headers = opa_headers(token)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ttl = ttl_seconds
        self._types: dict[str, TypeRules] = {}
        self._loaded_at = float("-inf")

    async def types(self) -> dict[str, TypeRules]:
        """Message type -> its rules; raises `PolicyUnavailable` only when none were ever read."""
        if time.monotonic() - self._loaded_at >= self._ttl:
            try:
                self._types = await self._fetch()
                self._loaded_at = time.monotonic()
            except PolicyUnavailable:
                if not self._types:
                    raise
        return self._types

    async def asks_consent(self) -> dict[str, bool] | None:
        """Whether each kind asks consent, at some stage at least; None when the policy engine cannot say."""
        try:
            return {kind: rules.consent_applies for kind, rules in (await self.types()).items()}
        except PolicyUnavailable:
            return None

    async def _fetch(self) -> dict[str, TypeRules]:
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout, headers=self._headers) as session,
                session.get(self._url) as response,
            ):
                response.raise_for_status()
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise PolicyUnavailable("could not read the policy pack's message types") from exc
        found = body.get("result") if isinstance(body, dict) else None
        if not isinstance(found, dict) or not found:
            raise PolicyUnavailable("the policy engine serves no message types")
        return {k: rules_of(k, v) for k, v in found.items() if isinstance(v, dict)}


def policy_pack(request: Request) -> PolicyPack:
    """The app's one pack reader, made on first use (the form is its only reader)."""
    pack: PolicyPack | None = getattr(request.app.state, "ui_policy_pack", None)
    if pack is None:
        settings = settings_of(request)
        pack = PolicyPack(settings.opa_url, timeout=settings.opa_timeout_seconds, token=settings.opa_token)
        request.app.state.ui_policy_pack = pack
    return pack


PackDep = Annotated[PolicyPack, Depends(policy_pack)]
