"""Witness cosignatures on checkpoints: C2SP ``tlog-cosignature/v1`` with Ed25519.

A witness (an agency that kept an earlier checkpoint) cosigns a new checkpoint once it has checked
that the new tree extends the one it kept (:func:`audit.advance_witness`). Its cosignature is one
more signature line on the checkpoint note, so the note an agency keeps carries the broker's
signature and every witness's. The bytes (pinned by ``tests/audit/golden/cosignature.json``)::

    key ID   = SHA-256(<name> || "\\n" || 0x04 || 32-byte Ed25519 public key)[:4]
    message  = "cosignature/v1\\n" || "time " || <T> || "\\n" || <checkpoint note body>
    line     = "— " || <name> || " " || base64(key ID || uint64_be(T) || Ed25519(message)) || "\\n"

``T`` is the POSIX time of cosigning in ASCII decimal without leading zeroes; the body is the whole
checkpoint body, extension lines (``time``, ``chain``) and final newline included, signature lines
excluded. Type 0x04 (not the broker's 0x01) gives the witness key a different key ID, so a
cosignature can never be mistaken for a log signature. A witness vkey is
``<name>+<hex key ID>+base64(0x04 || key)``.

Semantics, from the spec: as of ``T``, this is the largest tree the witness has seen for the origin
and it is consistent with everything it saw before. No statement is made about the extension lines.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.auditor import Checkpoint
from audit.errors import AuditError, CanonicalError, CosignatureInvalid, WitnessQuorumMissing
from audit.note import (
    NoteSignature,
    check_key_name,
    parse_signature_line,
    parse_verifier_key,
    public_bytes,
    split_note,
    with_signatures,
)

COSIGNATURE_V1 = 0x04
"""Signature type byte of an Ed25519 ``cosignature/v1`` key (C2SP signed-note registry)."""
_HEADER = "cosignature/v1\n"
_MAX_TIME = 2**63 - 1
_BLOB = 8 + 64


@dataclass(frozen=True)
class WitnessKey:
    """A witness an auditor trusts: its key name and Ed25519 public key."""

    name: str
    key: Ed25519PublicKey = field(repr=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)

    @property
    def key_id(self) -> bytes:
        """Return the four-byte key ID its cosignature lines carry."""
        material = self.name.encode() + b"\n" + bytes([COSIGNATURE_V1]) + public_bytes(self.key)
        return hashlib.sha256(material).digest()[:4]

    def vkey(self) -> str:
        """Return the C2SP verifier key ``name+keyid+base64(0x04 || key)``."""
        encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + public_bytes(self.key)).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, vkey: str) -> WitnessKey:
        """Parse a ``cosignature/v1`` verifier key (type 0x04)."""
        name, kind, raw = parse_verifier_key(vkey)
        if kind != COSIGNATURE_V1 or len(raw) != 32:
            raise CosignatureInvalid(f"not an Ed25519 cosignature/v1 verifier key (type {kind:#04x})")
        return cls(name, Ed25519PublicKey.from_public_bytes(raw))


@dataclass(frozen=True)
class Cosignature:
    """One parsed cosignature line: who, when (POSIX seconds) and the Ed25519 signature."""

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes = field(repr=False)

    @property
    def line(self) -> str:
        """Return the note signature line, newline included."""
        return NoteSignature(self.name, self.key_id, self.timestamp.to_bytes(8, "big") + self.signature).line

    @classmethod
    def parse(cls, line: str) -> Cosignature:
        """Parse a ``cosignature/v1`` signature line (without checking the signature)."""
        try:
            sig = parse_signature_line(line)
        except AuditError as exc:
            raise CosignatureInvalid(str(exc)) from exc
        if len(sig.blob) != _BLOB:
            raise CosignatureInvalid("not a cosignature/v1 line (wrong length)", witness=sig.name)
        timestamp = int.from_bytes(sig.blob[:8], "big")
        if timestamp > _MAX_TIME:
            raise CosignatureInvalid(f"timestamp {timestamp} exceeds 2^63-1", witness=sig.name)
        return cls(sig.name, sig.key_id, timestamp, sig.blob[8:])


def cosigned_message(body: str, timestamp: int) -> bytes:
    """Return the bytes a witness signs for checkpoint ``body`` at POSIX time ``timestamp``."""
    if not 0 <= timestamp <= _MAX_TIME:
        raise CosignatureInvalid(f"timestamp {timestamp} is outside 0..2^63-1")
    return f"{_HEADER}time {timestamp}\n{body}".encode()


def cosign(checkpoint_note: str, witness_name: str, witness_private_key: Ed25519PrivateKey, now: datetime) -> str:
    """Return the witness's cosignature line on ``checkpoint_note`` made at ``now`` (timezone-aware).

    Signs only what it is given: call :func:`audit.advance_witness` first, which checks the broker's
    signature and that the new tree extends the one this witness kept.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise CanonicalError("naive datetime: a cosignature time must be timezone-aware")
    witness = WitnessKey(witness_name, witness_private_key.public_key())
    checkpoint = Checkpoint.parse(checkpoint_note, verify_with=None)
    body, _ = split_note(checkpoint.note)
    timestamp = int(now.timestamp())
    signature = witness_private_key.sign(cosigned_message(body, timestamp))
    return Cosignature(witness.name, witness.key_id, timestamp, signature).line


def verify_cosignature(checkpoint_note: str, line: str, witness: WitnessKey) -> Cosignature:
    """Return the parsed cosignature if ``line`` is ``witness``'s valid cosignature on the note's body."""
    body, _ = split_note(checkpoint_note)
    cosignature = Cosignature.parse(line)
    if cosignature.name != witness.name or not hmac.compare_digest(cosignature.key_id, witness.key_id):
        raise CosignatureInvalid(
            f"line is by {cosignature.name}+{cosignature.key_id.hex()}, not {witness.name}+{witness.key_id.hex()}"
        )
    try:
        witness.key.verify(cosignature.signature, cosigned_message(body, cosignature.timestamp))
    except InvalidSignature as exc:
        raise CosignatureInvalid("signature does not verify over this checkpoint", witness=witness.name) from exc
    return cosignature


def cosigners(checkpoint_note: str, witnesses: Sequence[WitnessKey], lines: Iterable[str] = ()) -> tuple[str, ...]:
    """Return the names of ``witnesses`` with a valid cosignature among the note's lines and ``lines``.

    Lines by unknown keys, and lines that do not verify, are skipped (C2SP: verifiers ignore
    signatures they cannot check); each witness counts once however many lines it has, and however
    many of its keys (``witnesses`` may hold several under one name, its key history) made them.
    """
    _, carried = split_note(checkpoint_note)
    candidates = [sig.line for sig in carried] + list(lines)
    found: list[str] = []
    for witness in witnesses:
        if witness.name in found:
            continue  # another key of its history already cosigned: a quorum counts witnesses, not keys
        for line in candidates:
            try:
                verify_cosignature(checkpoint_note, line, witness)
            except AuditError:
                continue
            found.append(witness.name)
            break
    return tuple(found)


def require_cosignatures(
    checkpoint_note: str, witnesses: Sequence[WitnessKey], minimum: int, lines: Iterable[str] = ()
) -> tuple[str, ...]:
    """Return the cosigners' names, or raise :class:`WitnessQuorumMissing` if fewer than ``minimum``."""
    found = cosigners(checkpoint_note, witnesses, lines)
    if len(found) < minimum:
        size = Checkpoint.parse(checkpoint_note, verify_with=None).size
        raise WitnessQuorumMissing(tree_size=size, found=found, required=minimum)
    return found


def with_cosignatures(checkpoint_note: str, lines: Iterable[str]) -> str:
    """Return the note with cosignature ``lines`` appended (the form an agency keeps and a pack ships)."""
    return with_signatures(checkpoint_note, [Cosignature.parse(line).line for line in lines])
