"""The check step's dry run, as its page reads it: what each recipient would get and why, the deciding
findings first and the others marked with the way each points. Nothing is recorded, sealed or queued.
"""

from __future__ import annotations

from typing import Any

from broker.sharing.rules import RuleCatalogue
from broker.ui.form_types import fields_of
from schemas.vocab import Outcome


async def previewed(d: Any, message_type: str, rules: RuleCatalogue) -> dict[str, Any]:
    """One recipient of the dry run: its outcome, lawful basis, fields, and findings titled."""
    return {
        "agency_id": d.agency_id,
        "role": d.role,
        "outcome": d.outcome.value,
        "lawful_basis": d.lawful_basis.value if d.lawful_basis else None,
        "fields": list(d.allowed_fields) if d.outcome != Outcome.NO_SHARE else [],
        **fields_of(message_type, list(d.allowed_fields)),
        # The practitioner reads why before the rest: the deciding findings lead, the others follow.
        "decided_by": await rules.explain(
            [{"rule": r.rule, "message": r.message} for r in d.decided_by], message_type=message_type
        ),
        "reasons": await _with_effect([r for r in d.reasons if r not in d.decided_by], rules, message_type),
    }


async def _with_effect(reasons: list[Any], rules: RuleCatalogue, message_type: str) -> list[dict[str, Any]]:
    # Before sending, the policy's own answer says which way each finding points; the log keeps no
    # such mark, so only this page can show it.
    explained = await rules.explain(
        [{"rule": r.rule, "message": r.message} for r in reasons], message_type=message_type
    )
    return [{**x, "effect": r.effect.value if r.effect else None} for x, r in zip(explained, reasons, strict=True)]
