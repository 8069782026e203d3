"""A gateway restarted on a rotated broker key still verifies the log its predecessor signed.

The lifespan gives the decision log every key in the broker's signing history, so the periodic
verification (`sgb_log_verification_ok`) does not turn into a permanent false alarm after a rotation.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from broker.db import verification
from broker.metrics import Metrics
from broker.partnership.keys import rotate_broker_signing_key
from devstack.partnership import LocalPartnership
from tests.audit import conftest as log_fixtures
from tests.audit.conftest import DraftFactory
from tests.audit.tampering import drop_triggers
from tests.broker.conftest import Gateway, GatewayFactory

make_draft = log_fixtures.make_draft


async def test_a_gateway_on_a_rotated_key_verifies_the_log_signed_before(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path, make_draft: DraftFactory
) -> None:
    # No timers: the checkpoints and verdicts below are the only ones.
    quiet = {"checkpoint_seconds": 3600, "log_verify_seconds": 0}
    before: Gateway = await gateway_factory(**quiet)  # signs its opening checkpoint with the old key
    keys_dir = tmp_path / "broker-keys"  # the partnership's keys are shared by other tests: rotate a copy
    shutil.copytree(partnership.broker_keys_dir, keys_dir)
    rotated = rotate_broker_signing_key(keys_dir, now=datetime.now(UTC))
    after: Gateway = await gateway_factory(keys_dir=keys_dir, **quiet)
    decision_log = after.decision_log
    assert decision_log.public_key != before.decision_log.public_key
    await decision_log.append([make_draft(delivery_id="ntf-rotation.d0")])
    decision_log.refresh_checkpoint()  # and one with the new key

    metrics: Metrics = after.app.state.metrics
    assert verification.verify(decision_log, metrics, anchor=decision_log.anchor), "the rotation broke verification"
    assert metrics.registry.get_sample_value("sgb_log_verification_ok") == 1
    # Each key of the signing history (the current one included) and nothing else.
    assert {k.public_bytes_raw() for k in decision_log.verify_keys} == {
        k.public_bytes_raw() for _, k in rotated.verify_keys
    }

    drop_triggers(decision_log.engine)
    with decision_log.engine.begin() as connection:
        # The first entry, logged and checkpointed under the retired key.
        connection.execute(text("UPDATE audit_entry SET outcome = 'no_share' WHERE seq = 0"))
    assert not verification.verify(decision_log, metrics, anchor=decision_log.anchor), "a changed entry verified"
    assert metrics.registry.get_sample_value("sgb_log_verification_ok") == 0
