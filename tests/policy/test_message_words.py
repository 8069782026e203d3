"""No finding prints a vocabulary code: a DSL reads "a LADO allegation", never "a lado_allegation".

Every message reads its codes through `context.words` (the pack's `names`, else the code with
spaces). A message that formats a code itself would print it raw; the few hundred inputs of the
equivalence test reach every rule, so such a message shows here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.policy.conftest import REGISTRY
from tests.policy.test_baseline_equivalence import CURRENT, _bases, _decide_all, _generated

pytestmark = pytest.mark.stack

CODE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


def _messages(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["message"]} if isinstance(value.get("message"), str) else set()
        return found.union(*(_messages(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_messages(v) for v in value))
    return set()


def test_no_message_prints_a_code(opa_bin: str, tmp_path: Path) -> None:
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps({"registry": REGISTRY, "equivalence": {"inputs": _generated() + _bases()}}))
    messages = _messages(_decide_all(opa_bin, CURRENT, data_file))
    assert len(messages) > 500  # the inputs reach the rules' many wordings
    assert sorted(m for m in messages if CODE.search(m)) == []
