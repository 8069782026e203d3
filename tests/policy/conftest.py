"""The real OPA server for policy scenarios, loaded with the fictional demo partnership's registry."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faults.harness import PrivateOpa
from schemas.policy_input import POLICY_ENTRYPOINT

_FIXTURE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "registry.json").read_text())
# The demo partnership plus a Coroner's office (the Coroner's officer receives post-mortem material),
# a pathology service (it receives the scene documentation and reports to the Coroner, M19),
# a hospital (its named professional holds a child's discharge, M24), the NRM's decision maker (M21)
# and an adult mental health trust (it closes a parent's case, M28).
REGISTRY: dict[str, Any] = {
    **_FIXTURE,
    "revision": f"{_FIXTURE['revision']}+coroner+pathologist+hospital+sca+mh",
    "agencies": {
        **_FIXTURE["agencies"],
        "coroner-fenmere": {"type": "coroner", "name": "Fenmere Coroner's Office (fictional)"},
        "pathologist-fenmere": {"type": "pathologist", "name": "Fenmere Paediatric Pathology (fictional)"},
        "hospital-fenmere-general": {"type": "health_acute", "name": "Fenmere General Hospital (fictional)"},
        "sca-home-office": {"type": "home_office_sca_nrm", "name": "Single Competent Authority (test double)"},
        "mh-fenmere-trust": {"type": "health_mental_health", "name": "Fenmere Mental Health Trust (fictional)"},
    },
}

Decide = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture(scope="session")
def opa_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An OPA of this suite's own, serving this checkout's policies with this suite's registry.

    The registry is OPA's global data: pushing the scenarios' registry (it has agencies the demo
    partnership lacks) into the stack's shared OPA would flip it under a running demo or another
    suite's gateways, so the scenarios never touch it.
    """
    opa = PrivateOpa(tmp_path_factory.mktemp("policy-opa"))
    opa.start()
    try:
        with httpx.Client(base_url=opa.url, timeout=10) as client:
            client.put("/v1/data/registry", json=REGISTRY).raise_for_status()
            yield client
    finally:
        opa.stop()


@pytest.fixture
def decide(opa_http: httpx.Client) -> Decide:
    """POST a policy input to the decision entry point and return OPA's `result`."""

    def _decide(policy_input: dict[str, Any]) -> dict[str, Any]:
        answer = opa_http.post(f"/v1/data/{POLICY_ENTRYPOINT}", json={"input": policy_input})
        answer.raise_for_status()
        body = answer.json()
        assert "result" in body, f"decision undefined for input: {body}"
        result: dict[str, Any] = body["result"]
        return result

    return _decide
