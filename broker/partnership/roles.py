"""The roles an agency's tokens may assert and the partnership offices: the registry's vocabulary.

What each role may see and decide is the table in `broker.review.access`; which agency may assert
which role is the registry's grants (`broker.partnership.grants`).
"""

from __future__ import annotations

from typing import Final, Literal

AGENCY_SYSTEM: Final = "agency_system"
# In the order the access table lists them: a person acting, then leads, then authorisers.
PERSON_ROLES: Final = ("practitioner", "dsl", "ig_lead", "caldicott_guardian", "line_manager", "named_professional")
ROLES: Final = frozenset({AGENCY_SYSTEM, *PERSON_ROLES})
# Partnership-level offices and the role their holder must have been granted at their agency.
OFFICES: Final = {"partnership_ig_lead": "ig_lead", "partnership_caldicott_guardian": "caldicott_guardian"}
Office = Literal["partnership_ig_lead", "partnership_caldicott_guardian"]


def a_role(role: str) -> str:
    """A role's code with its article, as a refusal names it: "an ig_lead", "a dsl"."""
    return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"
