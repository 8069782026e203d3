"""The audit page's evidence pack, proven under a checkpoint the agencies' witnesses cosigned, on the real
gateway (OPA decides, SQLite logs).

A pack proven under the newest checkpoint the broker signed, which no witness has cosigned yet, fails
`python -m audit verify-pack --witness-key AGENCY=PEM` (`WitnessQuorumMissing: 0 of 1`). The page offers
what `python -m audit export --min-witnesses N` does, through the same `audit.export_pack`: the newest
checkpoint at least N agencies cosigned, 1 by default once one has, and says so when none has that many.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

import audit
from audit.cli import EXIT_FAILED, EXIT_OK, PINNED_KEY_ENV, app
from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.cosigning import post_cosignature, signed_checkpoint
from tests.broker.people import Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack

CSC = "csc-fenmere-mash"
runner = CliRunner()


def _pem(path: Path, key: Ed25519PublicKey) -> Path:
    path.write_bytes(key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return path


def _chosen(page: str) -> str:
    """The value the export form's "Proven under" choice starts at."""
    select = page.split('<select id="x-witnesses"', 1)[1].split("</select>", 1)[0]
    found = re.findall(r'<option value="(\d+)" selected>', select)
    assert len(found) == 1, select
    return str(found[0])


def _checkpoint_size(pack: str) -> int:
    note = json.loads(pack.splitlines()[1])["note"]
    return audit.Checkpoint.parse(note, verify_with=None).size


async def test_the_audit_page_exports_a_pack_the_witnesses_keys_check(
    gateway_factory: GatewayFactory,  # noqa: F811
    tmp_path: Path,
) -> None:
    # Only the test signs checkpoints, so the one the witness cosigns stays behind the newest.
    gateway = await gateway_factory(checkpoint_seconds=3600)
    ig = Person(gateway, CSC, "ig_lead", "ig-pack-01")
    try:
        await ig.sign_in()
        unwitnessed = (await ig.page("GET", "/ui/audit")).text
        cosigned = await signed_checkpoint(gateway)
        await post_cosignature(gateway, cosigned, CSC)
        assert (await gateway.post(school_referral())).status_code == 202  # decided after it: not cosigned
        page = (await ig.page("GET", "/ui/audit")).text
        period = {"since": "", "until": ""}
        witnessed = await ig.page("POST", "/ui/audit/export", {**period, "min_witnesses": _chosen(page)})
        newest = await ig.page("POST", "/ui/audit/export", {**period, "min_witnesses": "0"})
        too_many = await ig.page("POST", "/ui/audit/export", {**period, "min_witnesses": "2"})
    finally:
        await ig.close()

    assert _chosen(unwitnessed) == "0", "nothing cosigned yet: the newest checkpoint the broker signed"
    assert "No agency has cosigned a checkpoint with entries in it yet." in html.unescape(unwitnessed)
    assert _chosen(page) == "1", "once an agency has cosigned one, the newest checkpoint one agency cosigned"
    said = html.unescape(page.split('id="h-export"', 1)[1])
    assert "the newest checkpoint cosigned by at least 1 agency" in said
    assert "cosigned by at least 2 agencies" not in said, "one agency has cosigned: more could prove nothing yet"
    assert "cosigned by at least 1 agency" not in html.unescape(unwitnessed).split('id="h-export"', 1)[1]
    assert "Entries logged after that checkpoint are left out until a newer one is cosigned." in said

    assert witnessed.status_code == 200, witnessed.text[:800]
    assert newest.status_code == 200, newest.text[:800]
    assert _checkpoint_size(witnessed.text) == cosigned.size < _checkpoint_size(newest.text)
    # Named by what each proves, not "to now": the later entries are left out of the witnessed one.
    for response in (witnessed, newest):
        named = f'filename="evidence-pack-start-to-checkpoint-{_checkpoint_size(response.text)}.jsonl"'
        assert response.headers["content-disposition"] == f"attachment; {named}", response.headers

    broker = _pem(tmp_path / "broker.pub.pem", gateway.decision_log.public_key)
    agency = gateway.registry.agencies[CSC].current_witness_key
    assert agency is not None
    witness = agency.witness()
    options = [
        "--public-key",
        str(broker),
        "--witness-key",
        f"{witness.name}={_pem(tmp_path / 'csc.pem', witness.key)}",
    ]
    for name, response in (("witnessed", witnessed), ("newest", newest)):
        (tmp_path / f"{name}.jsonl").write_text(response.text, encoding="utf-8")
    checked = runner.invoke(
        app, ["verify-pack", str(tmp_path / "witnessed.jsonl"), *options], env={PINNED_KEY_ENV: None}
    )
    assert checked.exit_code == EXIT_OK, checked.output
    assert f"proven under checkpoint {cosigned.size}, cosigned by {witness.name}" in checked.output
    # What the auditor met: the newest checkpoint, which no witness has cosigned yet.
    unchecked = runner.invoke(
        app, ["verify-pack", str(tmp_path / "newest.jsonl"), *options], env={PINNED_KEY_ENV: None}
    )
    assert unchecked.exit_code == EXIT_FAILED and "WitnessQuorumMissing" in unchecked.output, unchecked.output

    assert too_many.status_code == 422, too_many.text[:800]
    refused = html.unescape(too_many.text)
    assert "No checkpoint has been cosigned by at least 2 agencies' witnesses yet, so no evidence pack was made." in (
        refused
    ), refused[-1500:]
    assert "Choose fewer witnesses" in refused and 'href="/ui/audit"' in refused
