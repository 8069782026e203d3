"""Every OPA this project starts serves the policy without its tests, and digests it as replay does.

A policy file's `<rule>_test.rego` decides nothing. Served, the tests were more than half of what OPA wrote,
and each gateway parsed, at every digest poll; and the digest a decision is logged with named them.
The local stack's OPA (`devstack`), a test's own (`faults.harness.PrivateOpa`) and the benchmark's
(`bench.harness.private_opa`) are read here; docker-compose.yml's flags in `test_opa_authz.py`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit.replay import bundle_of, policy_files
from bench import harness
from broker.sharing.policy import PolicyEngine
from devstack import opa
from devstack.settings import StackSettings

pytestmark = pytest.mark.stack

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = "safeguarding/decision/decision"


@pytest.fixture(params=["stack", "private", "bench"])
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "stack":
        yield opa.url(StackSettings())
    elif request.param == "private":
        yield request.getfixturevalue("private_opa")
    else:
        with (
            tempfile.TemporaryDirectory() as logs,
            harness.private_opa(str(StackSettings().opa_binary), Path(logs)) as url,
        ):
            yield url


async def test_the_served_policy_is_the_policy_files_without_their_tests(served: str) -> None:
    async with PolicyEngine(served, timeout=10, entrypoint=ENTRYPOINT) as engine:
        modules = await engine.policy_modules()
        digest = await engine.bundle_digest()
    served_ids = sorted(str(m["id"]) for m in modules)
    assert not [i for i in served_ids if i.endswith("_test.rego")], "OPA serves the policy's tests"
    expected = policy_files(REPO / "policies")
    assert len(served_ids) == len(expected) and expected, served_ids
    assert all(any(i.endswith(str(p.relative_to(REPO))) for i in served_ids) for p in expected)
    assert digest == bundle_of(REPO / "policies")[1]
