"""A role the partnership never granted, claimed in a validly signed token: refused and kept as evidence.

An agency signs its own tokens, so it could write any role into them; the registry says which roles each
agency's tokens may assert. The demo's housing provider claims a Caldicott Guardian's, and the demo then
finds the refusal where the partnership's IG lead reads it (`GET /v1/access-events`, the Access log page).
"""

from __future__ import annotations

from typing import Any

import httpx
from rich.console import Console

from broker.partnership.cli import issue_token
from demo.cases import OFFICES
from demo.site import AUDIENCE, DemoSite

CLAIMANT, CLAIMED = "housing-brookside", "caldicott_guardian"


def claim_an_ungranted_role(site: DemoSite, console: Console) -> None:
    token = issue_token(
        site.partnership.agency_keys(CLAIMANT), role=CLAIMED, audience=AUDIENCE, subject="housing-officer-demo-03"
    )
    refused = _get(site, "/v1/decisions", token)
    if refused.status_code != 401 or refused.json().get("reason") != "role_not_granted":
        raise RuntimeError(f"a role never granted was not refused as such: {refused.status_code} {refused.text}")
    seen = _get(site, "/v1/access-events", _ig_lead(site), subject="access", agency=CLAIMANT)
    seen.raise_for_status()
    logged: list[dict[str, Any]] = [e for e in seen.json() if e["role"] == CLAIMED]
    if not logged:
        raise RuntimeError("the refusal is not in the access log")
    console.print(
        f"✓ a Brookside Homes token claiming the Caldicott Guardian role, which the partnership never granted it, "
        f"is refused (401 role_not_granted) and is in the access log (entry #{logged[0]['seq']}), "
        "where the partnership's IG lead reads it"
    )


def _ig_lead(site: DemoSite) -> str:
    keys = site.partnership.agency_keys(OFFICES["partnership_ig_lead"])
    return issue_token(keys, role="ig_lead", audience=AUDIENCE, subject="demo-ig-lead")


def _get(site: DemoSite, path: str, token: str, **params: str) -> httpx.Response:
    return httpx.get(f"{site.url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10)
