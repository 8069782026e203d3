"""Signed JSONL evidence packs: entries for a period or agency, provable offline.

A pack is canonical-JSON lines::

    {"type":"header","format":"sgb-audit-pack/2","created_at":...,"since":...,"until":...,"agency":...,"entries":n}
    {"type":"checkpoint","note":"<signed checkpoint note, witness cosignature lines appended>"}
    {"type":"entry","entry":{<canonical entry document>},"leaf_hash":"<hex>","proof":["<hex>",...]}  (n)
    {"type":"signature","key":"<broker's note verifier key>","signature":"<base64 Ed25519 over every byte above>"}

Each proof is an RFC 9162 inclusion proof of the entry under the checkpoint's root. The pack ships
what an offline check needs: the broker's public key (the verifier key, ``name+hash+base64key``) and
the witnesses' cosignatures on the checkpoint. :func:`verify_pack` trusts that shipped key only if it
equals a pinned one or if ``min_witnesses`` trusted witnesses cosigned the checkpoint (they checked
the broker's signature before cosigning). Version 2 differs from 1 only in allowing cosignature lines
in the note and in those trust rules; version 1 packs still verify.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from audit.auditor import BrokerKey, Checkpoint, broker_keys, entry_leaf_hash, open_checkpoint
from audit.canonical import canonical_text, format_time
from audit.checkpoint import Signer, latest_witnessed, witnessed_note, write_checkpoint
from audit.cosignature import WitnessKey, require_cosignatures
from audit.errors import AuditError, NoTrustAnchor, NotWitnessed, PackInvalid, ProofInvalid, VerificationError
from audit.evidence import load_tree
from audit.log import Clock, utc_now
from audit.note import parse_verifier_key, public_bytes, verifier_key
from audit.proof import verify_inclusion
from audit.query import select_entries

PACK_FORMAT = "sgb-audit-pack/2"
_READABLE = ("sgb-audit-pack/1", PACK_FORMAT)


@dataclass(frozen=True)
class PackSummary:
    """What a pack holds (returned by export and by a successful verification)."""

    entries: int
    checkpoint: Checkpoint
    since: str | None
    until: str | None
    agency: str | None
    witnesses: tuple[str, ...] = ()
    uncovered: int = 0
    """Entries in the period left out because no (witnessed) checkpoint covers them yet."""


def export_pack(
    session: Session,
    out: TextIO,
    signer: Signer,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    agency: str | None = None,
    clock: Clock = utc_now,
    min_witnesses: int = 0,
    signed: Checkpoint | None = None,
    witnesses: Sequence[WitnessKey] | None = None,
    keys: BrokerKey = None,
) -> PackSummary:
    """Write a signed pack of the entries in [since, until) touching ``agency`` to ``out``.

    With ``min_witnesses = 0`` it proves the entries under ``signed``, a checkpoint the caller
    already signed and vouches for (a running gateway's, `audit.sign_trusted`), or else signs a fresh
    one first if the latest does not cover the whole log (a new, ordinary checkpoint row: the log is
    only ever appended to), as the chain-head row states it: only the holder of the signing key runs
    that, offline (after :func:`audit.check_signer`). Otherwise it proves the entries under the newest
    checkpoint that many witnesses cosigned (:func:`audit.latest_witnessed`: with ``witnesses`` and
    ``keys``, only cosignatures that verify now, on a checkpoint a broker key signed, count), or
    raises :class:`NotWitnessed`. Entries after the checkpoint are left out (counted in ``uncovered``).
    """
    if min_witnesses:
        checkpoint = _witnessed(session, min_witnesses, witnesses, keys)
    else:
        signed = signed or write_checkpoint(session, signer, clock=clock)
        checkpoint = Checkpoint.parse(witnessed_note(session, signed.size), verify_with=None)
    statement = select_entries(agency=agency, since=since, until=until)
    selected = list(session.execute(statement).scalars())
    entries = [e for e in selected if e.seq < checkpoint.size]
    tree = load_tree(session, checkpoint.size)
    if tree.root(checkpoint.size) != checkpoint.root:
        # Proofs from leaves that no longer give the checkpoint's root would only fail offline.
        raise ProofInvalid(f"stored leaves do not match the checkpoint at size {checkpoint.size}")
    bounds = (None if since is None else format_time(since), None if until is None else format_time(until))
    header = {
        "type": "header",
        "format": PACK_FORMAT,
        "created_at": format_time(clock()),
        "since": bounds[0],
        "until": bounds[1],
        "agency": agency,
        "entries": len(entries),
    }
    lines = [header, {"type": "checkpoint", "note": checkpoint.note}]
    lines += [
        {
            "type": "entry",
            "entry": e.document(),
            "leaf_hash": e.leaf_hash,
            "proof": [p.hex() for p in tree.inclusion_path(e.seq, checkpoint.size)],
        }
        for e in entries
    ]
    out.write(_signed(lines, signer))
    return PackSummary(len(entries), checkpoint, bounds[0], bounds[1], agency, uncovered=len(selected) - len(entries))


def _signed(lines: Sequence[object], signer: Signer) -> str:
    """The pack's lines, then the broker's signature over their exact bytes."""
    body = "".join(canonical_text(line) + "\n" for line in lines)
    signature = base64.b64encode(signer.key.sign(body.encode())).decode()
    key = verifier_key(signer.origin, signer.public_key)
    return body + canonical_text({"type": "signature", "key": key, "signature": signature}) + "\n"


def _witnessed(
    session: Session, min_witnesses: int, witnesses: Sequence[WitnessKey] | None, keys: BrokerKey
) -> Checkpoint:
    checkpoint = latest_witnessed(session, min_witnesses, witnesses=witnesses, keys=keys)
    if checkpoint is None:
        raise NotWitnessed(f"no checkpoint carries {min_witnesses} witness cosignatures yet", required=min_witnesses)
    return checkpoint


def verify_pack(
    text: str,
    public_key: BrokerKey = None,
    *,
    witnesses: Sequence[WitnessKey] = (),
    min_witnesses: int = 0,
) -> PackSummary:
    """Check a pack's signature, checkpoint, cosignatures, every entry's hash and proof, and its filters.

    Needs a trust anchor: the pinned broker ``public_key`` (the pack's own key must equal it, or one
    of them when the signing history is pinned), or ``min_witnesses`` of ``witnesses`` cosigning its
    checkpoint; otherwise :class:`NoTrustAnchor`.
    """
    pinned = broker_keys(public_key)
    if not pinned and not min_witnesses:
        raise NoTrustAnchor("a pack needs the broker's public key or a witness quorum to check it against")
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise PackInvalid("pack is truncated")
    body = "".join(line + "\n" for line in lines[:-2])
    signature = _line(lines[-2], "signature")
    shipped = _shipped_key(signature, pinned)
    _check_signature(body, signature, shipped)
    header = _line(lines[0], "header")
    if header.get("format") not in _READABLE:
        raise PackInvalid(f"unknown pack format {header.get('format')!r}")
    note = str(_line(lines[1], "checkpoint").get("note"))
    try:
        # Signed by the pack's key, or by a pinned one: a pack exported just after a rotation, with
        # nothing logged since, carries the last checkpoint, which the retired key signed.
        checkpoint = open_checkpoint(note, (shipped, *(key for key in pinned if key != shipped)))
    except VerificationError as exc:
        raise PackInvalid(f"checkpoint: {exc}") from exc
    names = require_cosignatures(note, witnesses, min_witnesses)
    entries = [_line(line, "entry") for line in lines[2:-2]]
    if header.get("entries") != len(entries):
        raise PackInvalid(f"header promises {header.get('entries')} entries, pack holds {len(entries)}")
    previous = -1
    for item in entries:
        previous = _check_entry(item, header, checkpoint, previous)
    return PackSummary(len(entries), checkpoint, header.get("since"), header.get("until"), header.get("agency"), names)


def _shipped_key(line: dict[str, Any], pinned: tuple[Ed25519PublicKey, ...]) -> Ed25519PublicKey:
    """Return the broker key the pack ships, refusing one that is none of the pinned keys.

    A pack is signed with the one key the broker held at export time; pinning the whole signing
    history lets an auditor check packs from before and after a rotation with the same keys.
    """
    try:
        _, kind, raw = parse_verifier_key(str(line.get("key")))
        shipped = Ed25519PublicKey.from_public_bytes(raw)
    except (AuditError, ValueError) as exc:
        raise PackInvalid(f"pack's verifier key is malformed: {exc}") from exc
    if kind != 1:
        raise PackInvalid(f"pack's verifier key has type {kind}, not Ed25519 (1)")
    if pinned and raw not in {public_bytes(key) for key in pinned}:
        raise PackInvalid("pack signature does not verify with this public key: it ships another key")
    return shipped


def _line(text: str, kind: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PackInvalid(f"{kind} line is not JSON") from exc
    if not isinstance(data, dict) or data.get("type") != kind or canonical_text(data) != text:
        raise PackInvalid(f"expected a canonical {kind} line")
    return data


def _check_signature(body: str, line: dict[str, Any], public_key: Ed25519PublicKey) -> None:
    try:
        public_key.verify(base64.b64decode(str(line["signature"]), validate=True), body.encode())
    except (InvalidSignature, binascii.Error, KeyError) as exc:
        # The key is the one pinned, or the one the pack ships: either way, its lines were changed after
        # it was signed (or another key signed it), which an auditor must not read as a wrong key alone.
        raise PackInvalid("pack signature does not verify: the pack was changed after it was signed") from exc


def _check_entry(item: dict[str, Any], header: dict[str, Any], checkpoint: Checkpoint, previous: int) -> int:
    entry = item.get("entry")
    if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int) or entry["seq"] <= previous:
        raise PackInvalid("entries must be documents in increasing seq order")
    seq = int(entry["seq"])
    leaf = entry_leaf_hash(entry)
    if leaf.hex() != item.get("leaf_hash"):
        raise PackInvalid(f"entry {seq}: content does not match its leaf hash")
    try:
        verify_inclusion(seq, checkpoint.size, leaf, [bytes.fromhex(p) for p in item["proof"]], checkpoint.root)
    except (VerificationError, ValueError, KeyError, TypeError) as exc:
        raise PackInvalid(f"entry {seq}: inclusion proof: {exc}") from exc
    _check_filters(seq, entry, header)
    return seq


def _check_filters(seq: int, entry: dict[str, Any], header: dict[str, Any]) -> None:
    agency, since, until = header.get("agency"), header.get("since"), header.get("until")
    if agency is not None and agency not in (entry.get("sender_agency"), entry.get("recipient_agency")):
        raise PackInvalid(f"entry {seq} does not involve agency {agency}")
    recorded = str(entry.get("recorded_at"))
    if (since is not None and recorded < since) or (until is not None and recorded >= until):
        raise PackInvalid(f"entry {seq} lies outside the pack's period")
