"""The benchmark's fictional partnership and notifications (three recipients by default).

Every agency is a `bench-` copy of a test fixture agency, and each run publishes in a topic
namespace of its own (`bench_namespace()`), so the benchmark never writes to the topics a running
demo, a test run or another benchmark reads, and deletes its topics afterwards. The agency ids need
no per-run prefix: the benchmark runs no consumers, so they never become Kafka principals.
Notifications start from `tests.factories.school_referral()` (the M01 school referral); the payload
is padded with clearly fictional text spread over the same nine narrative fields at every size, so
the policy sees the same data classes whatever the size and only the bytes change.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from devstack.partnership import AgencySpec, LocalPartnership, provision
from tests.factories import school_referral

PARTNERSHIP_ID = "bench_scp"
NAMESPACE_PREFIX = "sgbbench-"
SENDER = "bench-school-oakfield"

AGENCIES = [
    AgencySpec(SENDER, "education_school", "Bench Oakfield Primary (fictional)"),
    AgencySpec("bench-school-hollins", "education_school", "Bench Hollins Academy (fictional)"),
    AgencySpec("bench-csc-mash", "csc_front_door", "Bench CSC MASH (fictional)"),
    AgencySpec("bench-police", "police", "Bench Constabulary (fictional)"),
    AgencySpec("bench-housing", "housing", "Bench Homes (fictional)"),
    AgencySpec("bench-gp", "health_gp", "Bench Surgery (fictional)"),
    AgencySpec("bench-health-visiting", "health_community", "Bench Health Visiting (fictional)"),
    AgencySpec("bench-asc", "asc", "Bench Adult Social Care (fictional)"),
    AgencySpec("bench-probation", "probation", "Bench Probation (fictional)"),
    AgencySpec("bench-yot", "yos", "Bench Youth Offending Team (fictional)"),
    AgencySpec("bench-lado", "lado", "Bench LADO (fictional)"),
    AgencySpec("bench-vcs", "vcs", "Bench Juniors FC (fictional charity)"),
    *[AgencySpec(f"bench-csc-{n}", "csc_front_door", f"Bench CSC {n} (fictional)") for n in (2, 3, 4, 5)],
    *[AgencySpec(f"bench-police-{n}", "police", f"Bench Constabulary {n} (fictional)") for n in (2, 3, 4)],
]

# The first three are the factory referral's own recipients (CSC, police, housing: the policy shares
# an M01 referral with CSC and police, not housing). Beyond three, more CSC front doors and police
# forces (fictional neighbours), so that a wider referral also means more sealed deliveries.
RECIPIENTS = [
    {"agency_id": "bench-csc-mash", "role": "mash_intake", "need_to_know": "assess_and_decide"},
    {"agency_id": "bench-police", "role": "police_public_protection", "need_to_know": "investigate_crime"},
    {"agency_id": "bench-housing", "role": "housing_officer", "need_to_know": "provide_support"},
    *[
        {"agency_id": f"bench-csc-{n}", "role": "mash_intake", "need_to_know": "assess_and_decide"}
        for n in (2, 3, 4, 5)
    ],
    *[
        {"agency_id": f"bench-police-{n}", "role": "police_public_protection", "need_to_know": "investigate_crime"}
        for n in (2, 3, 4)
    ],
]

# Narrative fields padded to reach a payload size (each at most 4,000 characters by schema).
PADDED_FIELDS = (
    "concern_summary",
    "child_condition",
    "special_needs",
    "parental_health_issues",
    "previous_concerns",
    "referrer_view_of_risk",
    "child_views",
    "domestic_abuse_history",
    "alleged_perpetrator",
)
FILLER = "Fictional benchmark text about an invented child in the invented town of Fenmere. "


def bench_namespace() -> str:
    """A topic namespace for one benchmark run."""
    return f"{NAMESPACE_PREFIX}{uuid.uuid4().hex[:8]}"


def provision_partnership(root: Path) -> LocalPartnership:
    return provision(root, PARTNERSHIP_ID, list(AGENCIES))


def notification(recipients: int = 3, payload_bytes: int | None = 4096) -> dict[str, Any]:
    """One fresh M01 referral (new notification id) to `recipients` agencies, payload ~`payload_bytes`."""
    if not 1 <= recipients <= len(RECIPIENTS):
        raise ValueError(f"1..{len(RECIPIENTS)} recipients")
    body = school_referral(
        notification_id=str(uuid.uuid4()),
        sender={"agency_id": SENDER, "role": "dsl", "user_ref": "dsl-01", "is_professional": True},
        recipients=[dict(r) for r in RECIPIENTS[:recipients]],
    )
    if payload_bytes is not None:
        body["payload"] = _padded(body["payload"], payload_bytes)
    return body


def payload_size(body: dict[str, Any]) -> int:
    return len(json.dumps(body["payload"], separators=(",", ":")).encode())


def _padded(payload: dict[str, Any], target: int) -> dict[str, Any]:
    payload = {**payload, **{name: "" for name in PADDED_FIELDS if name != "concern_summary"}}
    base = len(json.dumps(payload, separators=(",", ":")).encode())
    per_field = max(0, target - base) // len(PADDED_FIELDS)
    if per_field > 4000 - len(payload["concern_summary"]):
        raise ValueError(f"{target} bytes is more than the padded fields can hold")
    for name in PADDED_FIELDS:
        current = payload[name]
        payload[name] = current + _text(per_field - len(current) if name != "concern_summary" else per_field)
    for name in PADDED_FIELDS:
        if not payload[name]:
            payload[name] = "Fictional."
    # Top up the last few bytes so the size is exact (to within the rounding of the split).
    short = target - len(json.dumps(payload, separators=(",", ":")).encode())
    if short > 0:
        payload["concern_summary"] += _text(short)
    return payload


def _text(n: int) -> str:
    if n <= 0:
        return ""
    return (FILLER * (n // len(FILLER) + 1))[:n]
