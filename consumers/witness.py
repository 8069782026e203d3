"""The agency as a witness of the broker's decision log: check every checkpoint shown, keep the newest, cosign it.

Every record carries the log's latest broker-signed checkpoint (Kafka header `sgb_checkpoint`). The
consumer keeps the last checkpoint it accepted (in its ledger, one atomic compare-and-set, so a crash
never leaves half a state and the kept tree never shrinks). For a checkpoint of another size it asks
the gateway for the consistency proof between the two and checks it itself (`audit.advance_witness`):

* the new tree extends the kept one: keep it, cosign it (`audit.cosign`, C2SP tlog-cosignature/v1)
  and post the cosignature to the gateway, which stores it beside the checkpoint;
* an older checkpoint the kept one extends (records are not read in publication order across
  partitions): nothing changes;
* two different trees of one size (in records, or a record's and the gateway's), no valid proof that
  the kept tree is a prefix of the new one, the gateway no longer holding a checkpoint the broker
  signed, or a checkpoint whose signature under one of the broker's keys does not verify (or that
  carries no signature under the log's name): `WitnessAlarm`. The log was rewritten, truncated or forked
  after this agency saw it, or someone is forging checkpoints; either way the agency must not go on
  as if its record of the log were sound, so the consumer stops (see `consumers.runner`). So does a
  record's checkpoint signed by a retired broker key too late by its own signed `time`, or by a key
  retired too long ago (`consumers.broker_keys`): `checkpoint_invalid`, as for a forged signature.

A record's checkpoint signed only by a broker key this agency does not hold proves nothing either
way: it is the broker's rotation not yet installed here, as for an envelope so signed, and stops the
consumer just as surely, uncommitted, as `UnknownBrokerKey` (exit status 2, naming the key), not as
an alarm that sends people looking for a fork that is not there.

The gateway being unreachable proves nothing: the kept checkpoint stays, deliveries go on (each
envelope is signed by the broker on its own) and the first record after the retry interval asks
again; until then checkpoints that need a proof are left unjudged, while those that need none (a
tree of the kept size) are still checked. A log that cannot produce a proof can never make this
agency accept a tree that contradicts what it kept.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import audit
from audit.note import key_hash, split_note
from consumers.broker_keys import BrokerKey, BrokerKeyring
from consumers.errors import (
    CHECKPOINT_INVALID,
    FORK,
    INCONSISTENT,
    ConfigurationError,
    GatewayUnavailable,
    UnknownBrokerKey,
    WitnessAlarm,
)
from consumers.ledger import KeptCheckpoint, Ledger
from schemas.witness import ConsistencyAnswer, CosignatureStored
from transport.keyfiles import AgencyWitnessKey

log = logging.getLogger("consumers.witness")

# Older checkpoints already proven to be prefixes of the kept one: not asked about twice.
_REMEMBERED = 256


class Gateway(Protocol):
    async def consistency(self, from_size: int, to_size: int) -> ConsistencyAnswer: ...

    async def cosign(self, tree_size: int, line: str) -> CosignatureStored: ...


def _now() -> datetime:
    return datetime.now(UTC)


class CheckpointWitness:
    """One agency's witness of one log (`origin`); the runner calls `observe` for every record's checkpoint.

    `key` is the witness key, or what returns the one to cosign with now (`KeyringHolder.witness_key`),
    so a rotated witness key is taken up without a restart.
    """

    def __init__(
        self,
        *,
        key: AgencyWitnessKey | Callable[[], AgencyWitnessKey],
        broker_keys: BrokerKeyring | Mapping[str, Ed25519PublicKey],
        origin: str,
        ledger: Ledger,
        gateway: Gateway,
        clock: Callable[[], datetime] = _now,
        post_retry_seconds: float = 30.0,
    ) -> None:
        self._key = key
        self._keyring = BrokerKeyring.of(broker_keys)
        self._broker_keys = self._keyring.entries()
        self._origin = origin
        self._ledger = ledger
        self._gateway = gateway
        self._clock = clock
        self._retry = post_retry_seconds  # also spaces proof requests after the gateway failed one
        self._kept: KeptCheckpoint | None = None
        self._loaded = False
        self._proven: dict[str, None] = {}
        self._next_post = 0.0
        self._next_ask = 0.0

    @property
    def kept(self) -> KeptCheckpoint | None:
        """The checkpoint this agency holds now (None before the first record)."""
        return self._kept

    async def observe(self, note: str, *, source: Mapping[str, object]) -> None:
        """Judge the checkpoint a record carried; raise `WitnessAlarm` if it contradicts the kept one."""
        if not self._loaded:
            self._kept = await asyncio.to_thread(self._ledger.kept_checkpoint, self._origin)
            self._loaded = True
        kept = self._kept
        if kept is not None and (note == kept.note or note in self._proven):
            await self._post_pending()
            return
        new, key = self._open(note, kept, source)
        if kept is not None and new.size != kept.tree_size and time.monotonic() < self._next_ask:
            # A hung gateway costs the client's whole timeout per call: asking for every record would
            # hold each delivery that long (and the consumer past Kafka's poll interval).
            return
        try:
            accepted = await self._judge(kept, new, key, source)
        except GatewayUnavailable as exc:
            self._next_ask = time.monotonic() + self._retry
            log.warning(
                "checkpoint of size %d not yet checked against the kept one (asking again in %.0f s): %s",
                new.size,
                self._retry,
                exc,
            )
            return
        if kept is None or accepted.note != kept.note:
            await self._keep(accepted)
        else:
            self._remember(note)
        await self._post_pending()

    def _signed(self, note: str) -> tuple[audit.Checkpoint, BrokerKey] | None:
        """The checkpoint and the broker key (current or retired) that signed it; None if none did."""
        for key in self._broker_keys:
            try:
                return audit.Checkpoint.open(note, key.key), key
            except audit.AuditError:  # not this key's signature (or not a checkpoint at all)
                continue
        return None

    def _open(
        self, note: str, kept: KeptCheckpoint | None, source: Mapping[str, object]
    ) -> tuple[audit.Checkpoint, Ed25519PublicKey]:
        signed = self._signed(note)
        if signed is None:
            # Either way the consumer stops, uncommitted: an insider who could make a record carry an
            # uncheckable checkpoint must not thereby silence the witness. But only a forgery (or no
            # signature at all) is evidence against the log; a key this agency lacks is a rotation
            # not installed, which the operator puts right, so it names the key instead of alarming.
            unknown = None if self._forged(note) else self._unknown_signer(note)
            if unknown is not None:
                raise UnknownBrokerKey("the checkpoint a record carries", unknown)
            what = "a checkpoint whose broker signature does not verify, or that carries none"
            raise WitnessAlarm(CHECKPOINT_INVALID, what, _evidence(kept, None, source))
        checkpoint, key = signed
        if checkpoint.origin != self._origin:
            raise ConfigurationError(
                f"the broker's log is {checkpoint.origin!r}, but this consumer witnesses "
                f"{self._origin!r}: set CONSUMER_LOG_ORIGIN to the gateway's SGB_LOG_ORIGIN"
            )
        # Only here, on what a record carries. The gateway's stored checkpoints (`_ask`) may rightly be
        # signed by a key retired long since, and must state the very tree of one judged here anyway.
        why = self._keyring.refusal(key.kid, checkpoint.time)
        if why is not None:
            raise WitnessAlarm(CHECKPOINT_INVALID, f"a checkpoint {why}", _evidence(kept, checkpoint, source))
        return checkpoint, key.key

    async def _judge(
        self, kept: KeptCheckpoint | None, new: audit.Checkpoint, key: Ed25519PublicKey, source: Mapping[str, object]
    ) -> audit.Checkpoint:
        held = None if kept is None else audit.Checkpoint.parse(kept.note, verify_with=None)
        proof: tuple[bytes, ...] = ()
        if held is not None and held.size != new.size:
            larger = new if new.size > held.size else held
            answer = await self._ask(held.size if larger is new else new.size, larger, _evidence(kept, new, source))
            proof = tuple(base64.b64decode(h, validate=True) for h in answer.proof)
        # With the new tree larger, the proof must start at the kept size; smaller, it ends there.
        old_size = held.size if held is not None and new.size > held.size else None
        try:
            return audit.advance_witness(held, new.note, proof, key, old_size=old_size)
        except audit.ForkDetected as exc:
            raise WitnessAlarm(FORK, str(exc), _evidence(kept, new, source)) from exc
        except audit.InconsistentCheckpoint as exc:
            raise WitnessAlarm(INCONSISTENT, str(exc), _evidence(kept, new, source)) from exc

    async def _ask(self, smaller: int, larger: audit.Checkpoint, evidence: dict[str, object]) -> ConsistencyAnswer:
        """The gateway's proof up to `larger`, whose stored checkpoint must be the very tree the broker signed."""
        try:
            answer = await self._gateway.consistency(smaller, larger.size)
        except GatewayUnavailable as exc:
            if exc.code != "not_found":
                raise
            message = f"the log no longer holds the checkpoint of size {larger.size} that the broker signed"
            raise WitnessAlarm(INCONSISTENT, message, evidence) from exc
        signed = self._signed(answer.checkpoint)
        if signed is None:
            # Not "unavailable": the gateway answered, and what it holds is not what the broker signed.
            # Treating it as an outage would let an insider who edits the stored row hide a rewritten
            # log behind a warning for ever.
            self._unverified(answer.checkpoint, larger, evidence | {"gateway_checkpoint": answer.checkpoint})
            return answer
        stored = signed[0]
        if _tree(stored) != _tree(larger):
            raise WitnessAlarm(
                FORK,
                f"the broker signed two different trees of size {larger.size}",
                evidence | {"gateway_checkpoint": stored.note},
            )
        return answer

    def _unverified(self, note: str, larger: audit.Checkpoint, evidence: dict[str, object]) -> None:
        """Judge the gateway's stored checkpoint of `larger`'s size that no broker key this agency holds verifies.

        A signature line under one of those keys that fails is a forgery; a note of another tree (or
        none) means the signed one is gone. Signed only by a key this agency no longer holds (a
        retired broker key, after a rotation) and stating the tree it verified itself is no
        contradiction: the proof is then checked against the agency's own copy, as always.
        """
        if self._forged(note):
            message = f"the log's checkpoint of size {larger.size} carries a broker signature that does not verify"
            raise WitnessAlarm(CHECKPOINT_INVALID, message, evidence)
        try:
            stored = audit.Checkpoint.parse(note, verify_with=None)
        except audit.AuditError:
            stored = None
        if stored is None or _tree(stored) != _tree(larger):
            message = f"the log no longer holds the checkpoint of size {larger.size} that the broker signed"
            raise WitnessAlarm(INCONSISTENT, message, evidence)
        log.info("the log's checkpoint of size %d is signed by a broker key this agency does not hold", larger.size)

    @staticmethod
    def _unknown_signer(note: str) -> str | None:
        """The signed-note key id (`<origin>+<hex>`) of the log's signature on a well-formed checkpoint
        `note` that `_signed` and `_forged` found under none of the broker's keys; None if it has none."""
        try:
            checkpoint = audit.Checkpoint.parse(note, verify_with=None)
            _, lines = split_note(note)
        except audit.AuditError:
            return None
        # Only a line under the log's own name is a broker's signature; others (cosignatures) are not.
        signer = next((line for line in lines if line.name == checkpoint.origin), None)
        return None if signer is None else f"{signer.name}+{signer.key_id.hex()}"

    def _forged(self, note: str) -> bool:
        """Whether `note` carries a signature line under one of the broker's keys (that `_signed` found invalid)."""
        origin = note.split("\n", 1)[0]
        try:
            _, lines = split_note(note)
            wanted = {key_hash(origin, key.key) for key in self._broker_keys}
        except audit.AuditError:
            return False
        return any(line.name == origin and line.key_id in wanted for line in lines)

    async def _keep(self, checkpoint: audit.Checkpoint) -> None:
        key = self._key if isinstance(self._key, AgencyWitnessKey) else self._key()
        line = audit.cosign(checkpoint.note, key.name, key.private_key, self._clock())
        kept = await asyncio.to_thread(
            self._ledger.keep_checkpoint,
            self._origin,
            tree_size=checkpoint.size,
            note=checkpoint.note,
            cosignature=line,
        )
        if kept:
            self._kept = KeptCheckpoint(checkpoint.size, checkpoint.note, line, posted=False)
            self._proven.clear()
            # Posted at once, unless the gateway was just found not answering: then not before asking
            # it again is due, or a hung gateway costs this record a whole timeout after all.
            self._next_post = self._next_ask
            log.info("witnessed the log at size %d", checkpoint.size)

    async def _post_pending(self) -> None:
        """Send the gateway this agency's cosignature on the kept checkpoint, if it does not have it yet."""
        kept = self._kept
        if kept is None or kept.posted or time.monotonic() < self._next_post:
            return
        if kept.tree_size > 0:  # the empty log's checkpoint vouches for nothing: nothing to send
            try:
                await self._gateway.cosign(kept.tree_size, kept.cosignature)
            except GatewayUnavailable as exc:
                self._next_post = self._next_ask = time.monotonic() + self._retry
                log.warning("cosignature on size %d not stored yet: %s", kept.tree_size, exc)
                return
        await asyncio.to_thread(self._ledger.mark_posted, self._origin, kept.tree_size)
        self._kept = KeptCheckpoint(kept.tree_size, kept.note, kept.cosignature, posted=True)

    def _remember(self, note: str) -> None:
        self._proven[note] = None
        if len(self._proven) > _REMEMBERED:
            del self._proven[next(iter(self._proven))]


def _tree(checkpoint: audit.Checkpoint) -> tuple[str, int, bytes, bytes]:
    """What a checkpoint commits to, whoever signed it and whenever."""
    return checkpoint.origin, checkpoint.size, checkpoint.root, checkpoint.chain_head


def _evidence(
    kept: KeptCheckpoint | None, new: audit.Checkpoint | None, source: Mapping[str, object]
) -> dict[str, object]:
    """What an agency reports to the partnership's operators: both checkpoints and where the new one came from."""
    evidence: dict[str, object] = dict(source)
    if kept is not None:
        held = audit.Checkpoint.parse(kept.note, verify_with=None)
        evidence |= {"kept_size": held.size, "kept_root": held.root.hex(), "kept_checkpoint": kept.note}
    if new is not None:
        evidence |= {"new_size": new.size, "new_root": new.root.hex(), "new_checkpoint": new.note}
    return evidence
