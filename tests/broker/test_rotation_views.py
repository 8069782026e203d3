"""After a broker key rotation, what reviewers see still verifies: a decision's inclusion proof against
a checkpoint the retired key signed, and the audit page's re-verification of the whole log."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

import audit
from broker.partnership.keys import rotate_broker_signing_key
from broker.review import views
from broker.ui import audit_page
from devstack.partnership import LocalPartnership
from tests.audit import conftest as log_fixtures
from tests.audit.conftest import DraftFactory
from tests.broker.conftest import GatewayFactory

make_draft = log_fixtures.make_draft


async def test_reviewers_checks_hold_across_a_rotation(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path, make_draft: DraftFactory
) -> None:
    quiet = {"checkpoint_seconds": 3600, "log_verify_seconds": 0}
    before = await gateway_factory(**quiet)
    await before.decision_log.append([make_draft(delivery_id="ntf-rotation-view.d0")])
    before.decision_log.refresh_checkpoint()  # entry 0 under the key about to retire
    keys_dir = tmp_path / "broker-keys"  # a copy: the partnership's keys are shared by other tests
    shutil.copytree(partnership.broker_keys_dir, keys_dir)
    rotate_broker_signing_key(keys_dir, now=datetime.now(UTC))
    after = await gateway_factory(keys_dir=keys_dir, **quiet)  # nothing new to sign: the old checkpoint stands
    assert after.decision_log.public_key != before.decision_log.public_key
    with Session(after.decision_log.engine) as session:
        entry = audit.get_entry(session, 0)
        latest = audit.latest_checkpoint(session)
    assert latest is not None and entry.seq < latest.size
    audit.Checkpoint.open(latest.note, before.decision_log.public_key)  # the retired key's, or no test

    proven = views.integrity(after.decision_log, entry, after.registry)
    assert proven["status"] == "verified", proven
    whole = audit_page.integrity(after.decision_log)
    assert whole["ok"], whole
