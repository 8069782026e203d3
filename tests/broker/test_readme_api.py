"""The README's first calls of an agency system, run as written: curl against a gateway on a port, with a
token per request from the documented command, and each answer as the README says it is."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from demo.cases import cases
from devstack.partnership import LocalPartnership
from tests.ui.conftest import serving

pytestmark = pytest.mark.stack

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _calls() -> str:
    block = README.split("<!-- api-calls -->", 1)[1].split("<!-- /api-calls -->", 1)[0]
    found = re.search(r"```sh\n(.*?)```", block, re.S)
    assert found is not None, "the README's API calls are a sh block between the api-calls markers"
    return found.group(1)


def test_the_readmes_first_calls_send_a_notification_and_read_its_status(
    partnership: LocalPartnership,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    assert shutil.which("curl"), "curl is what an integrator has"
    (title, body) = next((t, b) for t, b in cases() if b["sender"]["agency_id"] == "police-fenmere")
    (tmp_path / "notification.json").write_text(json.dumps(body))
    with serving(partnership, sqlite_url) as served:
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "KEYS": str(partnership.agency_keys_dir("police-fenmere")),
            "BROKER": served.base_url,
        }
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _calls()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["202", "200"], (title, ran.stdout, (tmp_path / "receipt.json").read_text())
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    status = json.loads((tmp_path / "status.json").read_text())
    assert receipt["notification_id"] == status["notification_id"] == body["notification_id"]
    assert [r["agency_id"] for r in receipt["recipients"]] == ["school-oakfield-primary"]
