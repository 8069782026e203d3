"""Decide: ask OPA about every recipient at once and read its answer against the decision contract.

Fail closed: an answer that breaks the contract, a recipient the policy did not mention, or a
decision made with another agency registry is never read as permission. Nor is an answer that
releases a field the notification's type does not define: it is "policy unavailable" (503, with
the urgent route) when it arrives, never an error halfway through sealing. (A deadline the
working-day calendar cannot compute is refused alike, where it is computed: `broker.sharing.plan`.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ValidationError

from broker.errors import PolicyUnavailable
from broker.metrics import Metrics
from broker.partnership.registry import Registry
from broker.sharing.policy import PolicyEngine, RawDecision
from schemas.notifications import Notification, payload_of
from schemas.policy_bundle import recorded_revision
from schemas.policy_decision import PolicyDecision, Reason, RecipientDecision
from schemas.policy_input import build_policy_input
from schemas.vocab import Outcome

log = logging.getLogger("broker.sharing.decide")


class ContractBreach(ValueError):
    """An answer that validates but that the gateway cannot act on."""


@dataclass(frozen=True)
class Decision:
    """One decision per recipient, in the notification's order, and what decided them."""

    recipients: list[RecipientDecision]
    revision: str  # policy revision + registry revision, as the log records it
    decision_id: str | None
    registry_revision: str | None
    # What OPA was asked (names, classes, codes; never a value), kept with the decision for replay.
    policy_input: dict[str, Any] | None = None
    policy_revision: str = ""  # the policy's own name for itself, as the answer gave it


class Decider:
    def __init__(
        self,
        *,
        policy: PolicyEngine,
        registry: Registry,
        partnership_id: str,
        metrics: Metrics,
    ) -> None:
        self._policy = policy
        self._registry = registry
        # Hashing the registry hashes every agency and key: once per gateway, not per notification.
        self._registry_revision = registry.revision
        self._partnership_id = partnership_id
        self._metrics = metrics
        # The content hash of the policy bundle OPA serves, learnt whenever the registry is loaded,
        # and the policy revision it was learnt for (the first answer after it).
        self._bundle: str | None = None
        self._bundle_for: str | None = None

    async def decide(self, notification: Notification, *, authorisation_verified: bool = False) -> Decision:
        """`authorisation_verified`: the authoriser's own token for this notification was checked."""
        decision = await self._ask(notification, authorisation_verified)
        if decision.registry_revision != self._registry_revision:
            # OPA restarted or holds another registry: reload ours and ask again, once.
            await self.load_registry()
            decision = await self._ask(notification, authorisation_verified)
            if decision.registry_revision != self._registry_revision:
                raise PolicyUnavailable("the policy engine is not using this gateway's agency registry")
        return await self._with_current_bundle(decision)

    async def _with_current_bundle(self, decision: Decision) -> Decision:
        """The decision logged with the digest of the bundle that made it: after an OPA redeploy another
        gateway may have pushed the registry first, so this one never reloaded and kept the old digest
        (`audit replay` would then name the wrong rules)."""
        if decision.policy_revision == self._bundle_for:
            return decision
        if self._bundle_for is not None:
            self._bundle = await self._policy.bundle_digest()
        self._bundle_for = decision.policy_revision
        revision = recorded_revision(decision.policy_revision, self._bundle, decision.registry_revision)
        return replace(decision, revision=revision)

    async def refresh_bundle(self) -> None:
        """Read the served bundle's digest again, whatever its revision says: a module replaced in
        place (through OPA's API) keeps the revision string, and must not be logged under the old hash."""
        digest = await self._policy.bundle_digest()
        if self._bundle is not None and digest != self._bundle:
            log.warning("the policy OPA serves changed (bundle %s, was %s)", digest[:16], self._bundle[:16])
        self._bundle = digest

    async def keep_bundle_current(self, stop: asyncio.Event, *, every: float) -> None:
        """`refresh_bundle` every `every` seconds until `stop`; OPA being away is /readyz's to report."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
            if stop.is_set():
                return
            try:
                await self.refresh_bundle()
            except PolicyUnavailable as exc:
                log.warning("policy bundle digest not read: %s", exc)

    async def use(self, registry: Registry) -> None:
        """Decide with `registry` from now on (broker.partnership.watch), and give OPA its data."""
        self._registry = registry
        self._registry_revision = registry.revision
        await self.load_registry()

    async def load_registry(self) -> None:
        """Give OPA this gateway's registry, and learn which policy bundle it decides with."""
        # The bundle first: the push, then the question, should follow each other closely, since
        # another gateway of another partnership may push its own registry to a shared OPA.
        self._bundle, self._bundle_for = await self._policy.bundle_digest(), None
        await self._policy.push_registry(self._registry.to_opa_data())

    async def registry_loaded(self) -> bool:
        return await self._policy.registry_revision() == self._registry_revision

    async def _ask(self, notification: Notification, authorisation_verified: bool) -> Decision:
        policy_input = build_policy_input(
            notification, self._partnership_id, authorisation_verified=authorisation_verified
        ).model_dump(mode="json")
        with self._metrics.opa_latency.time():
            try:
                raw = await self._policy.decide(policy_input)
            except PolicyUnavailable:
                self._metrics.opa_failures.inc()
                raise
        try:
            answer = read_answer(raw)
            if answer.result is not None:
                decision = read_decision(answer.result, answer.decision_id, notification, bundle=self._bundle)
                return replace(decision, policy_input=policy_input)
        except (ValidationError, ContractBreach) as exc:
            self._metrics.opa_failures.inc()
            raise PolicyUnavailable("the policy engine's answer did not match the decision contract") from exc
        # An undefined decision (no `result`) must never be read as permission.
        self._metrics.opa_failures.inc()
        raise PolicyUnavailable("policy engine returned no decision")


class PolicyAnswer(BaseModel):
    """OPA's answer to a decision query (its REST API's `result`, absent when the rule is undefined)."""

    result: PolicyDecision | None = None
    decision_id: str | None = None


def read_answer(raw: RawDecision) -> PolicyAnswer:
    """OPA's answer parsed and validated against the decision contract in one pass (`ValidationError`
    for anything else, bytes that are not JSON included)."""
    return PolicyAnswer.model_validate_json(raw.body)


def read_decision(
    parsed: PolicyDecision,
    decision_id: str | None,
    notification: Notification,
    *,
    bundle: str | None = None,
) -> Decision:
    """Each requested recipient's decision; problems with the whole notification override them all.

    `ContractBreach` if a decision could not be carried out (see the module's docstring).
    """
    decided = [parsed.decision_for(r.agency_id, r.role) for r in notification.recipients]
    defined = payload_of(notification).data_classes
    for one in decided:
        _check_usable(one, defined)
    recipients = [_overridden(one, parsed.errors) for one in decided]
    revision = recorded_revision(parsed.policy_revision, bundle, parsed.registry_revision)
    return Decision(recipients, revision, decision_id, parsed.registry_revision, policy_revision=parsed.policy_revision)


def _check_usable(decided: RecipientDecision, defined: Collection[str]) -> None:
    # Sealing projects the payload onto `allowed_fields` and refuses a name it does not define.
    if any(name not in defined for name in decided.allowed_fields):
        unknown = sorted(set(decided.allowed_fields) - set(defined))
        raise ContractBreach(f"allowed_fields names fields the payload does not define: {unknown}")


def _overridden(decided: RecipientDecision, errors: list[Reason]) -> RecipientDecision:
    if errors:
        # A problem with the notification as a whole decides every recipient: it leads the reasons,
        # once (the policy's own blocked decision may already list it).
        found = {(e.rule, e.message) for e in errors}
        return decided.model_copy(
            update={
                "outcome": Outcome.NO_SHARE,
                "reasons": [*errors, *(r for r in decided.reasons if (r.rule, r.message) not in found)],
                "decided_by": list(errors),
                "allowed_fields": [],
                "obligations_on_release": [],
            }
        )
    if decided.outcome == Outcome.NO_SHARE and (decided.allowed_fields or decided.obligations_on_release):
        # A no-share is never released: nothing to send, and no clock to start later.
        return decided.model_copy(update={"allowed_fields": [], "obligations_on_release": []})
    return decided
