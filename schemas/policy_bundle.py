"""The policy bundle's content hash: which rules and which policy data made a decision.

The policy's own `revision` is a name a person gives it; two bundles can carry the same name. The
digest names the content: SHA-256 over the sorted SHA-256s of every Rego module's text (not the
tests beside them: `TEST_MODULES`) and the
canonical JSON of the policy data (`data.safeguarding.config`). The gateway computes it from what
its OPA serves; `python -m audit replay` from a policy directory; the same bundle gives the same
digest either way, so a replay can say which revision it compares against which.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from schemas.envelope import canonical_json

DATA_PATH = ("safeguarding", "config")
# A policy file's tests sit beside it (`<rule>_test.rego`) but decide nothing, so OPA serves the
# policy without them (`opa run` with SERVE_FLAGS) and the digest names the policy alone. Served,
# they were more than half of the 1.7 MB that OPA wrote, and each gateway parsed, at every digest poll.
TEST_MODULES = "*_test.rego"
SERVE_FLAGS = (f"--ignore={TEST_MODULES}",)


def bundle_digest(modules: Iterable[str], config: Mapping[str, Any]) -> str:
    """The hex digest of Rego module texts (order does not matter) and the policy data."""
    module_digests = sorted(hashlib.sha256(text.encode("utf-8")).hexdigest() for text in modules)
    return hashlib.sha256(canonical_json({"modules": module_digests, "config": dict(config)})).hexdigest()


def recorded_revision(policy_revision: str, digest: str | None, registry_revision: str | None) -> str:
    """The revision a decision is logged with: the policy's name, its content and the registry's."""
    revision = policy_revision if digest is None else f"{policy_revision}@{digest[:16]}"
    if registry_revision:
        revision = f"{revision}+{registry_revision[:16]}"
    return revision[:128]
