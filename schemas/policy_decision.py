"""The policy decision: OPA's answer at `POLICY_ENTRYPOINT`, one entry per requested recipient.

The gateway validates OPA's result against `PolicyDecision`; a result that does not validate, or a
requested recipient the decision does not mention, is a no-share (`decision_for` makes the
second rule hard to get wrong).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.vocab import DueUnit, LawfulBasis, Outcome, ReasonEffect

# GR1..GR7 golden rules, C1..C8 Caldicott principles, I01..I50 invariants (project ids),
# SYS-* for input, registry and contract failures the policy detects itself.
RULE_ID_PATTERN = r"^(GR[1-7]|C[1-8]|I[0-9]{2}|SYS-[A-Z-]+)$"

# The receipt (schemas.api.RuleReason) and the decision log (audit.models.Reason) hold a finding to
# these. The contract is as strict as they are, so an answer that breaks them is refused as "policy
# unavailable" when it arrives, not halfway through writing its receipt.
MAX_MESSAGE = 500
MAX_RULE_ID = 32
# The longest timescale in the source documents is 120 days (a child in need plan's later reviews).
# A due time over a year off is a broken answer, and a huge one would stall or overflow the
# working-day calendar on the request's event loop.
MAX_DUE_AMOUNT = 400

RuleId = Annotated[str, Field(pattern=RULE_ID_PATTERN, max_length=MAX_RULE_ID)]

# The effect a deciding finding has under each outcome (policies/README.md, "How a recipient is
# decided"): every entry of `RecipientDecision.decided_by` carries the effect of its outcome.
OUTCOME_EFFECT: dict[Outcome, ReasonEffect] = {
    Outcome.SHARE: ReasonEffect.SHARE,
    Outcome.SHARE_MINIMISED: ReasonEffect.WITHHOLD_FIELDS,
    Outcome.SHARE_URGENT_REVIEW_AFTER: ReasonEffect.URGENT_OVERRIDE,
    Outcome.HOLD_FOR_AUTHORISATION: ReasonEffect.HOLD_FOR_AUTHORISATION,
    Outcome.NEEDS_ADVICE: ReasonEffect.NEEDS_ADVICE,
    Outcome.NO_SHARE: ReasonEffect.NO_SHARE,
}


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reason(_Closed):
    rule: RuleId
    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    # Optional so a reason built by hand (e.g. a reviewer's) needs none; the policy always sets it.
    effect: ReasonEffect | None = None


class DueIn(_Closed):
    amount: int = Field(ge=0, le=MAX_DUE_AMOUNT)
    unit: DueUnit


class Obligation(_Closed):
    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    due_in: DueIn | None  # None: as soon as possible / no fixed limit in the seeds
    description: str = Field(min_length=1)
    rule: RuleId
    # Where the clock starts when the source document counts from an event rather than from the
    # notice of it (the ICMD runs from the death being confirmed, not from the broker hearing of
    # it): a payload date-time field, `payload.<name>`. None: from the decision (or the release).
    starts_at: str | None = Field(default=None, pattern=r"^payload\.[a-z][a-z0-9_]*$")


class RecipientDecision(_Closed):
    agency_id: str
    role: str
    outcome: Outcome
    # The finding(s) that set the outcome; their effect is the outcome's (see OUTCOME_EFFECT). The
    # policy always fills it; the default only lets answers of older policy revisions validate.
    decided_by: list[Reason] = Field(default_factory=list)
    # Deciding findings first, then the conditions met (effect share), then notes.
    reasons: list[Reason]
    lawful_basis: LawfulBasis | None
    # Fields the recipient may see: sealed now when shared, or on release when held/advice.
    allowed_fields: list[str]
    withheld_fields: list[str]
    # The outcome's own obligations, as the receipt shows them (a held share's clocks wait for release).
    obligations: list[Obligation]
    # Held/advice outcomes only: the obligations of the share a release makes, started on release,
    # as `allowed_fields` is what it sends. The default lets older policy revisions' answers validate.
    obligations_on_release: list[Obligation] = Field(default_factory=list)


class PolicyDecision(_Closed):
    policy_revision: str
    registry_revision: str | None
    partnership_id: str | None
    recipients: list[RecipientDecision]
    # Problems with the notification as a whole (no registry, malformed input); each forces no_share.
    errors: list[Reason]

    def decision_for(self, agency_id: str, role: str) -> RecipientDecision:
        """This recipient's decision; a recipient the policy did not decide is a no-share."""
        for decision in self.recipients:
            if decision.agency_id == agency_id and decision.role == role:
                return decision
        undecided = Reason(
            rule="SYS-UNDECIDED",
            message="The policy returned no decision for this recipient, so nothing is shared with it.",
            effect=ReasonEffect.NO_SHARE,
        )
        return RecipientDecision(
            agency_id=agency_id,
            role=role,
            outcome=Outcome.NO_SHARE,
            decided_by=[undecided],
            reasons=[undecided],
            lawful_basis=None,
            allowed_fields=[],
            withheld_fields=[],
            obligations=[],
        )
