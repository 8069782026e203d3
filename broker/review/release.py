"""When a held share may be released, and when the only answers are to refuse it or send it again.

A reviewer's release stands in for the human judgement the policy asked for: advice (GR3) or an
authorisation (GR4, I26, ...). It cannot stand in for what only the sender can supply. If no lawful
basis is recorded for the share, or a finding that decided the hold says consent (or the exception
relied on instead) or the lawful basis is missing, a release would send information with no
recorded basis for it. If the finding says the notification lacks a field the recipient needs to act
(GR6, adequate) or says no purpose was given (C1, justify the purpose), a release would send what
the recipient cannot act on, or with no purpose recorded. Such an item can only be refused; the
sender sends again with what was missing, and the policy decides afresh.

The deciding findings are the first reasons of the decided entry (the policy lists them first).
An entry written since the log kept them names their positions (`deciding_reasons`); for an earlier
one, the held row remembers how many there were (`deciding` in its log context), and the entry names
their rules (`deciding_rules`).

Two facts say who may authorise, and the wait's words give both: who may release a held share here is the
access table's (a line manager or named professional of the sender's agency, not the sender); who the
partnership's procedure asks to authorise a type is the policy pack's, listed in its finding. Only those
in both can authorise as the procedure asks.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Engine
from sqlmodel import Session, col, select

import audit
from broker.db.tables import HeldDelivery
from broker.review.access import PRINCIPALS, TABLE, Action, Scope

# The policy words a finding that waits for a person's sign-off this way (policies/safeguarding/
# golden/golden.rego, `_gr4_authorisation`). It can share GR4's rule id with findings about missing
# consent, so until the policy marks such findings itself, the wording tells them apart.
_AWAITS_SIGN_OFF: Final = "Waiting for authorisation by one of:"
_NEEDS: Final = {
    "GR1": "a lawful basis",
    "GR2": "whether the person or family knows and was asked, or why not",
    "GR4": "consent, or the exception relied on instead",
    "GR6": "the fields the recipient must have to act",
    "C1": "the purpose the information is needed for",
}
# Holds that only wait for what the sender left out: a GR2 hold waits "until a reason is recorded"
# (domain brief §4.3, GR2), which a reviewer's release would skip; a GR6 hold is the notification lacking
# a field (its needs_advice finding, on MARAC, is a judgement); every C1 hold is a missing purpose.
_SENDER_HOLDS: Final = frozenset({"GR2", "GR4", "GR6", "C1"})
# Who may release a held share here: the roles and offices the access table lets authorise (the queue's
# `may_decide`), in the words the pages give those roles (their codes' underscores as spaces).
_RELEASERS: Final = tuple(r.replace("_", " ") for r in PRINCIPALS if TABLE[r][Action.AUTHORISE] is not Scope.NONE)
# Whose refusal ends a wait no answer can release: named, for a reader who cannot refuse it (a Caldicott
# Guardian read "Refuse it" on the decision page, with no one named and nothing in their own queue).
_REFUSED_BY: Final = (
    f"A {' or '.join(_RELEASERS)} of the sender's agency refuses it from the authorisation queue; the sender can "
    "then send it again"
)
_NO_BASIS: Final = (
    f"No lawful basis is recorded for this share, and only the sender can record one. {_REFUSED_BY} naming the "
    "lawful basis relied on (golden rules 1 and 4)."
)


def refusal_only(decided: audit.Entry, deciding: int | None = None) -> str | None:
    """Why `decided` may not be released, for the reviewer and the API; None when it may be."""
    needs = sender_needs(decided, deciding)
    return _refusal(decided.lawful_basis, needs, len(deciding_positions(decided, deciding)))


def _refusal(lawful_basis: str | None, needs: list[tuple[str, str]], deciding: int) -> str | None:
    if not needs:
        return None
    if lawful_basis is None and [rule for rule, _ in needs] == ["GR1"]:
        return _NO_BASIS
    rules, need = ", ".join(r for r, _ in needs), listed([n for _, n in needs])
    held = f"The finding that held this share ({rules}) needs"
    if len(needs) > 1:
        held = f"The findings that held this share ({rules}) need"
    if deciding > len(needs):  # the card lists others beside it (GR2, GR4)
        held = f"Of the findings that held this share, {rules} {'need' if len(needs) > 1 else 'needs'}"
    return f"{held} {need}, which only the sender can supply. {_REFUSED_BY} with that."


def sender_needs(decided: audit.Entry, deciding: int | None = None) -> list[tuple[str, str]]:
    """What only the sender can supply, per deciding finding that waits for it: (rule, what it needs)."""
    return _needs(decided.outcome, decided.lawful_basis, deciding_findings(decided, deciding))


def _needs(outcome: str, lawful_basis: str | None, findings: Sequence[Mapping[str, str]]) -> list[tuple[str, str]]:
    """What the deciding findings wait for from the sender; with no lawful basis relied on and none of
    them saying why (a consent set aside leaves none, and GR4 says so), the basis itself."""
    needs = []
    for reason in findings:
        rule, message = reason.get("rule", ""), reason.get("message", "")
        # GR4 advice (consent refused or unsure, a basis recorded) is the judgement GR4 leaves to people.
        sender_hold = rule in _SENDER_HOLDS and outcome == "hold_for_authorisation"
        if (rule == "GR1" or sender_hold) and not message.startswith(_AWAITS_SIGN_OFF):
            needs.append((rule, _NEEDS[rule]))
    return needs if needs or lawful_basis is not None else [("GR1", _NEEDS["GR1"])]


def deciding_findings(decided: audit.Entry, deciding: int | None = None) -> list[dict[str, str]]:
    """The findings that decided `decided`, as the log names them, or for an earlier entry its first ones."""
    count = deciding or len(decided.deciding_rules) or 1
    logged = [i for i in decided.deciding_reasons if i < len(decided.reasons)]
    return [decided.reasons[i] for i in logged] or decided.reasons[:count]


def deciding_positions(decided: audit.Entry, deciding: int | None = None) -> list[int]:
    """Where the findings that decided `decided` are among its reasons, in their order.

    One rule can have a finding that decided and one that did not (GR4's "waiting for authorisation"
    hold beside its consent-scope no_share), so a finding is marked by its position, not its rule. An
    entry written before the log kept positions: the held row's count of deciding findings (the policy
    lists them first), or else every finding of a deciding rule, or else the first finding.
    """
    total = len(decided.reasons)
    logged = [i for i in decided.deciding_reasons if i < total]
    if logged:
        return logged
    if deciding:
        return list(range(min(deciding, total)))
    if decided.deciding_rules:
        rules = set(decided.deciding_rules)
        return [i for i, r in enumerate(decided.reasons) if r.get("rule") in rules]
    return [0] if total else []


def deciding_count(context: dict[str, Any]) -> int | None:
    """How many findings decided the hold, as its held row remembers them (entries before `deciding_reasons`)."""
    count = context.get("deciding")
    return count if isinstance(count, int) else None


def waiting(decided: audit.Entry, held_row: HeldDelivery) -> dict[str, str | None]:
    """A held share's wait, as the queue card, the decision page and the API give it: what would end it,
    why a release cannot (None when it can), and when the share is destroyed if nobody answers."""
    deciding = deciding_count(held_row.log_context)
    refuse_only = refusal_only(decided, deciding)
    return {
        "resolves": resolves(decided, refuse_only, deciding),
        "refuse_only": refuse_only,
        "expires_at": held_row.expires_at.isoformat(),
    }


def held_until(engine: Engine, delivery_ids: Collection[str]) -> dict[str, str]:
    """When each of these deliveries, held and still unanswered, is destroyed if nobody answers it: so the
    sender learns at once how long the person who must answer has, not only from the decision's page."""
    query = select(HeldDelivery.delivery_id, HeldDelivery.expires_at).where(
        col(HeldDelivery.delivery_id).in_(list(delivery_ids)), col(HeldDelivery.resolved_at).is_(None)
    )
    with Session(engine) as session:
        return {delivery: expires.isoformat() for delivery, expires in session.exec(query)}


def resolves(decided: audit.Entry, refuse_only: str | None, deciding: int | None = None) -> str:
    """What would end the wait, in the words of the answer that ends it, and whose it is."""
    findings = deciding_findings(decided, deciding)
    return _resolves(decided.outcome, findings, refuse_only, sender_needs(decided, deciding))


def receipt_wait(outcome: str, lawful_basis: str | None, decided_by: Sequence[Mapping[str, str]]) -> str:
    """`resolves` for a decision as its receipt gives it (`decided_by`: its deciding findings), before any
    log read: the sender's answer page says what the decision page and the queue's card will say."""
    needs = _needs(outcome, lawful_basis, decided_by)
    return _resolves(outcome, decided_by, _refusal(lawful_basis, needs, len(decided_by)), needs)


def receipt_refusal(outcome: str, lawful_basis: str | None, decided_by: Sequence[Mapping[str, str]]) -> str | None:
    """`refusal_only` for a decision as its receipt gives it: why no answer can release it, or None."""
    return _refusal(lawful_basis, _needs(outcome, lawful_basis, decided_by), len(decided_by))


def _resolves(
    outcome: str, findings: Sequence[Mapping[str, str]], refuse_only: str | None, needs: list[tuple[str, str]]
) -> str:
    if refuse_only is not None:
        return f"The sender sends it again with {listed(sorted({need for _, need in needs}))}."
    if outcome == "needs_advice":
        return (
            "An adviser's answer (a DSL, IG lead, Caldicott Guardian or named professional of the sender's "
            "agency, or the partnership's IG lead or Caldicott Guardian): share it or do not."
        )
    if outcome == "hold_for_authorisation":
        # Who may release it: whom the access table lets release held shares and, where the
        # partnership's procedure names who authorises this type, only those it names too.
        asked = [f for f in findings if f.get("message", "").startswith(_AWAITS_SIGN_OFF)]
        able = [r for r in _RELEASERS if all(r in _named(f) for f in asked)]
        if not able:
            return " ".join([*(_procedure(f) for f in asked), "Refuse it; the sender can ask one of them."])
        who = f"a {_either(able)} of the sender's agency, other than the sender"
        return " ".join([f"A release from the authorisation queue by {who}.", *(_procedure(f) for f in asked)])
    return "A post-hoc review of the urgent share."


def _named(finding: Mapping[str, str]) -> list[str]:
    """The roles an authorisation finding waits for, as its sentence lists them ("a, b or c")."""
    listed = finding.get("message", "").removeprefix(_AWAITS_SIGN_OFF).split(". ", 1)[0].strip()
    return re.split(r", | or ", listed)


def outside_procedure(decided: audit.Entry, role: str, deciding: int | None = None) -> str | None:
    """Why a person of `role` may not release this held share although the access table lets them
    release held shares: the partnership's procedure for it names the roles that authorise it, and
    theirs is not one (a named professional releasing what a manager must sign). None: it may."""
    for finding in deciding_findings(decided, deciding):
        if finding.get("message", "").startswith(_AWAITS_SIGN_OFF):
            named = _named(finding)
            if role.replace("_", " ") not in named:
                return (
                    f"The partnership's procedure ({finding.get('rule', '')}) asks for authorisation by one of: "
                    f"{_either(named)}; a {role.replace('_', ' ')} may not give it. Ask one of them, or refuse it."
                )
    return None


def _procedure(finding: Mapping[str, str]) -> str:
    """The policy's list of authorisers is the partnership's procedure for this type, a different fact
    from who may release it here (the access table): say which of the procedure's roles may also."""
    named = _named(finding)
    both = [role for role in _RELEASERS if role in named]
    here = f"of these, only a {_either(both)} can release it here" if both else "none of these can release it here"
    rule = finding.get("rule", "")
    return f"The partnership's procedure ({rule}) asks for authorisation by one of: {_either(named)}; {here}."


def _either(roles: Sequence[str]) -> str:
    """Roles as a sentence gives them: "a, b or c"."""
    return " or ".join([", ".join(roles[:-1]), roles[-1]] if len(roles) > 1 else roles)


def listed(needs: list[str]) -> str:
    """Needs in words, "a; b; and c": each may hold a comma of its own ("consent, or the exception")."""
    return "; and ".join(["; ".join(needs[:-1]), needs[-1]] if len(needs) > 1 else needs)
