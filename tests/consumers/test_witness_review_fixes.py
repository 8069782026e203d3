"""Two witness defects found in review (s22, findings 6 and 8), pinned without Kafka or a running gateway.

* A gateway that fails (hung, black-holed, overloaded) was asked again by every record: with the
  client's 10 s timeout each delivery waited that long. After a failure the witness now leaves the
  gateway alone for its retry interval, while still judging what needs no gateway (forks of the
  kept size) and letting deliveries go on.
* The gateway's stored checkpoint was matched to the one the witness checked on size and root only:
  a broker-signed checkpoint of the same size and root but another chain head passed silently,
  although the witness calls exactly that a fork everywhere else.

`FakeGateway` stands for what the real gateway cannot be made to be without breaking it: one that
lies (serves a checkpoint with another chain head for the size the witness kept, as a broker whose log
an insider rewrote would) or stops answering between two records. It implements the witness's own
interface to the gateway (`consumers.witness.Gateway`) and answers with real consistency proofs over a
real Merkle tree. The honest gateway, one whose log was rewritten, and one that cannot be reached are
the real gateway in tests/witness/test_witness_checks.py.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import Checkpoint
from audit.merkle import MerkleTree, leaf_hash
from audit.note import sign_note
from consumers.errors import FORK, GatewayUnavailable, WitnessAlarm
from consumers.ledger import Ledger
from consumers.witness import CheckpointWitness, Gateway
from schemas.witness import ConsistencyAnswer, CosignatureStored
from transport.keyfiles import AgencyWitnessKey

ORIGIN = "sgb.decision-log"
SOURCE = {"topic": "test", "partition": 0, "offset": 0}
BROKER = Ed25519PrivateKey.generate()
TREE = MerkleTree([leaf_hash(f"entry {i}".encode()) for i in range(16)])
# Long enough that no test run reaches its end: what is counted is calls, never time.
LONG_RETRY = 3600.0


def _checkpoint(size: int, *, chain: bytes = b"\x01" * 32, second: int = 0, root: bytes | None = None) -> str:
    """The broker's signed checkpoint of the first `size` entries of TREE (or of `root`, for a fork)."""
    body = Checkpoint.body(
        ORIGIN, size, TREE.root(size) if root is None else root, f"2026-01-05T09:00:{second:02d}.000000Z", chain
    )
    return sign_note(body, ORIGIN, BROKER)


class FakeGateway:
    """Serves proofs over TREE and the checkpoints in `stored`; fails every call while `down`."""

    def __init__(self, stored: dict[int, str] | None = None) -> None:
        self.stored = stored if stored is not None else {}
        self.down = False
        self.calls: list[str] = []

    async def consistency(self, from_size: int, to_size: int) -> ConsistencyAnswer:
        self.calls.append(f"proof {from_size}->{to_size}")
        if self.down:
            raise GatewayUnavailable("GET /v1/log/proof: TimeoutError")
        proof = [base64.b64encode(h).decode() for h in TREE.consistency_path(from_size, to_size)]
        return ConsistencyAnswer(
            from_size=from_size,
            to_size=to_size,
            checkpoint=self.stored.get(to_size, _checkpoint(to_size)),
            proof=proof,
        )

    async def cosign(self, tree_size: int, line: str) -> CosignatureStored:
        self.calls.append(f"cosign {tree_size}")
        if self.down:
            raise GatewayUnavailable("POST /v1/log/cosignatures: TimeoutError")
        return CosignatureStored(tree_size=tree_size, witness="csc-fictional", key_id="0123abcd", timestamp=0)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger(tmp_path / "ledger.db")
    yield opened
    opened.close()


def _witness(ledger: Ledger, gateway: Gateway, *, retry: float) -> CheckpointWitness:
    key = AgencyWitnessKey("witness-1", "csc-fictional", Ed25519PrivateKey.generate(), "2026-01-05T09:00:00Z")
    return CheckpointWitness(
        key=key,
        broker_keys={"broker-1": BROKER.public_key()},
        origin=ORIGIN,
        ledger=ledger,
        gateway=gateway,
        post_retry_seconds=retry,
    )


async def _kept_at_five_then_gateway_down(ledger: Ledger, *, retry: float) -> tuple[CheckpointWitness, FakeGateway]:
    gateway = FakeGateway()
    witness = _witness(ledger, gateway, retry=retry)
    await witness.observe(_checkpoint(5), source=SOURCE)  # trusted on first use, cosignature stored
    assert witness.kept is not None and witness.kept.posted
    gateway.down = True
    gateway.calls.clear()
    return witness, gateway


async def test_after_a_gateway_failure_records_do_not_ask_it_again_within_the_retry_interval(ledger: Ledger) -> None:
    """Finding 6: before the fix, ten records carrying a newer checkpoint made ten proof requests,
    each of which costs the client's full timeout against a hung gateway."""
    witness, gateway = await _kept_at_five_then_gateway_down(ledger, retry=LONG_RETRY)
    for _ in range(10):
        await witness.observe(_checkpoint(9, second=1), source=SOURCE)  # returns: the delivery goes on
    await witness.observe(_checkpoint(12, second=2), source=SOURCE)  # newer still: needs the gateway too
    await witness.observe(_checkpoint(3), source=SOURCE)  # older: proving it a prefix needs the gateway too
    assert gateway.calls == ["proof 5->9"]
    assert witness.kept is not None and witness.kept.tree_size == 5


async def test_a_fork_of_the_kept_size_is_still_caught_while_the_gateway_is_left_alone(ledger: Ledger) -> None:
    """Finding 6's fix must not blind the witness: two trees of the kept size need no gateway to judge."""
    witness, gateway = await _kept_at_five_then_gateway_down(ledger, retry=LONG_RETRY)
    await witness.observe(_checkpoint(9, second=1), source=SOURCE)
    await witness.observe(_checkpoint(5, second=3), source=SOURCE)  # same tree, signed later: no alarm
    with pytest.raises(WitnessAlarm) as alarm:
        await witness.observe(_checkpoint(5, second=4, root=b"\x07" * 32), source=SOURCE)
    assert alarm.value.reason == FORK
    assert [call for call in gateway.calls if call.startswith("proof")] == ["proof 5->9"]


async def test_a_re_signed_checkpoint_is_not_posted_to_a_gateway_just_found_not_answering(ledger: Ledger) -> None:
    """Keeping a re-signed checkpoint of the kept tree made the witness post its cosignature at once,
    each post another full timeout against the gateway that had just failed."""
    witness, gateway = await _kept_at_five_then_gateway_down(ledger, retry=LONG_RETRY)
    await witness.observe(_checkpoint(9, second=1), source=SOURCE)
    for second in (3, 4, 5):
        await witness.observe(_checkpoint(5, second=second), source=SOURCE)  # kept; its post waits
    assert gateway.calls == ["proof 5->9"]
    assert witness.kept is not None and not witness.kept.posted


async def test_once_the_retry_interval_has_passed_the_witness_asks_again_and_advances(ledger: Ledger) -> None:
    """Finding 6's back-off is a pause, not a verdict: with the interval over, the next record asks."""
    witness, gateway = await _kept_at_five_then_gateway_down(ledger, retry=0.0)
    await witness.observe(_checkpoint(9, second=1), source=SOURCE)
    await witness.observe(_checkpoint(9, second=1), source=SOURCE)
    assert gateway.calls == ["proof 5->9", "proof 5->9"]
    gateway.down = False
    await witness.observe(_checkpoint(9, second=1), source=SOURCE)
    assert witness.kept is not None and witness.kept.tree_size == 9 and witness.kept.posted


@pytest.mark.parametrize(("kept_size", "shown_size"), [(1, 2), (2, 1)], ids=["record-newer", "record-older"])
async def test_a_stored_checkpoint_with_another_chain_head_is_a_fork(
    ledger: Ledger, kept_size: int, shown_size: int
) -> None:
    """Finding 8: before the fix, the gateway's broker-signed checkpoint of the larger size passed
    although its chain head differs from the one the witness checked, and the witness advanced."""
    larger = max(kept_size, shown_size)
    other = _checkpoint(larger, chain=b"\x03" * 32)  # same size, same root, another chain head
    gateway = FakeGateway(stored={larger: other})
    witness = _witness(ledger, gateway, retry=LONG_RETRY)
    await witness.observe(_checkpoint(kept_size, chain=b"\x02" * 32), source=SOURCE)
    with pytest.raises(WitnessAlarm) as alarm:
        await witness.observe(_checkpoint(shown_size, chain=b"\x02" * 32, second=1), source=SOURCE)
    assert alarm.value.reason == FORK
    assert alarm.value.evidence["gateway_checkpoint"] == other
    assert witness.kept is not None and witness.kept.tree_size == kept_size
