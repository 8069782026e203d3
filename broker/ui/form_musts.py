"""Whom a procedure says a notification must reach, once the details the form asks say it applies.

Some procedures name the agencies a notification must go to, not only those it may: a strategy
meeting or discussion about a child causing harm to a parent or carer includes adult care, and a
child in a family with known extremists is referred to children's social care with the police
informed. Whether either applies is a payload fact (the strategy's procedure, the family's links),
which the form asks on the details step, after who needs to know. So, as a stage that takes a chosen
agency off does (`broker.ui.form_recipients`), such an answer brings the recipients step round again
while none of the kind it names is chosen, naming the agencies of that kind the form offers and the
procedure's source. Where this partnership registers none of that kind, the form cannot send to one,
and does not stop the person: they reach that agency as they do today.

This is the form's guidance to the person filling it in. The policy decides each recipient the
sender names; it does not refuse a notification for the agencies it leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.partnership.registry import Registry
from broker.ui.form_payload import facts
from broker.ui.form_types import FormType
from schemas.payloads.exploitation import ExtremistFamilyLinks
from schemas.payloads.referrals import StrategyKind
from schemas.vocab import AgencyType

__all__ = ["MUSTS", "Must", "unmet"]

_CSC = frozenset({AgencyType.CSC_FRONT_DOOR.value, AgencyType.CSC_TEAM.value})


@dataclass(frozen=True)
class Must:
    """A procedure's rule: with `fact` answered `value` on `message_type`, at least one agency of each
    group of kinds is among the recipients."""

    message_type: str
    fact: str
    value: str
    kinds: tuple[frozenset[str], ...]
    rule: str
    source: str


MUSTS = (
    Must(
        "strategy_discussion_request",
        "strategy_kind",
        StrategyKind.CPCH.value,
        (frozenset({AgencyType.ASC.value}),),
        "a strategy meeting or discussion about a child causing harm to a parent or carer must include adult care",
        "CPCH-Policy, 6. Strategy Meeting/Safeguarding Enquiries",
    ),
    Must(
        "radicalisation_concern",
        "family_links",
        ExtremistFamilyLinks.FAMILY_WITH_KNOWN_EXTREMISTS.value,
        (_CSC, frozenset({AgencyType.POLICE.value})),
        "a child in a family with known extremists is referred to children's social care and the police are informed",
        "CPSCP-Procedures, Violent extremism > 3. Referral and Intervention Processes",
    ),
)


def unmet(registry: Registry, form: FormType, answers: dict[str, str], offered: list[dict[str, str]]) -> list[str]:
    """A sentence for each procedure these answers bring in whose kinds no chosen agency is of, naming
    the offered agencies of the kind missing; none for a kind the form offers no agency of."""
    given = facts(form.payload, answers)
    chosen = {a.type for k in answers if k.startswith("to:") and (a := registry.agency(k[3:])) is not None}
    sentences = []
    for must in MUSTS:
        if must.message_type != form.message_type or given.get(must.fact) != must.value:
            continue
        types = {r["name"]: a.type for r in offered if (a := registry.agency(r["id"])) is not None}
        choose = [
            _either([name for name, t in types.items() if t in kinds]) for kinds in must.kinds if not kinds & chosen
        ]
        if any(choose):
            sentences.append(
                f"By your answers, {must.rule} ({must.source}): choose {' and '.join(c for c in choose if c)}."
            )
    return sentences


def _either(names: list[str]) -> str:
    """One of these agencies, in words ("" for none)."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"
