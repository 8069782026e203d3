"""Signed notes in the transparency-dev / ``golang.org/x/mod/sumdb/note`` format (Ed25519).

A note is UTF-8 text: a body of non-empty lines each ending in ``\\n``, a blank line, then one or
more signature lines ``— <name> <base64(key_hash[4] || signature[64])>``. ``key_hash`` is the
first four bytes of ``SHA-256(name || "\\n" || 0x01 || public_key)``, 0x01 naming Ed25519.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.errors import CheckpointInvalid

_ED25519 = b"\x01"
_SIG_PREFIX = "\u2014 "


def public_bytes(key: Ed25519PublicKey) -> bytes:
    """Return the 32 raw bytes of an Ed25519 public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_hash(name: str, key: Ed25519PublicKey) -> bytes:
    """Return the four-byte key id that note signatures carry."""
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public_bytes(key)).digest()[:4]


def verifier_key(name: str, key: Ed25519PublicKey) -> str:
    """Return the ``name+hash+base64key`` verifier string that note tools use."""
    encoded = base64.b64encode(_ED25519 + public_bytes(key)).decode()
    return f"{name}+{key_hash(name, key).hex()}+{encoded}"


def sign_note(body: str, name: str, key: Ed25519PrivateKey) -> str:
    """Return ``body`` signed by ``key`` under ``name`` as a note."""
    _check_body(body)
    if not name or any(c.isspace() or c == "+" for c in name):
        raise CheckpointInvalid(f"bad key name {name!r}")
    signature = key.sign(body.encode())
    blob = base64.b64encode(key_hash(name, key.public_key()) + signature).decode()
    return f"{body}\n{_SIG_PREFIX}{name} {blob}\n"


@dataclass(frozen=True)
class _Signature:
    name: str
    key_id: bytes
    signature: bytes


def open_note(note: str, name: str, key: Ed25519PublicKey) -> str:
    """Return the body of ``note`` if ``key`` (under ``name``) signed it; raise otherwise."""
    body, signatures = _split(note)
    wanted = key_hash(name, key)
    for sig in signatures:
        if sig.name == name and sig.key_id == wanted:
            try:
                key.verify(sig.signature, body.encode())
            except InvalidSignature as exc:
                raise CheckpointInvalid("note signature does not verify") from exc
            return body
    raise CheckpointInvalid(f"note carries no signature by key {name}+{wanted.hex()}")


def _split(note: str) -> tuple[str, list[_Signature]]:
    body, sep, tail = note.partition("\n\n")
    if not sep or not tail.endswith("\n"):
        raise CheckpointInvalid("note has no signature block")
    body += "\n"
    _check_body(body)
    return body, [_parse_signature(line) for line in tail[:-1].split("\n")]


def _parse_signature(line: str) -> _Signature:
    if not line.startswith(_SIG_PREFIX):
        raise CheckpointInvalid("malformed note signature line")
    name, _, blob = line[len(_SIG_PREFIX) :].partition(" ")
    try:
        raw = base64.b64decode(blob, validate=True)
    except binascii.Error as exc:
        raise CheckpointInvalid("note signature is not base64") from exc
    if len(raw) != 4 + 64:
        raise CheckpointInvalid("note signature has the wrong length")
    return _Signature(name, raw[:4], raw[4:])


def _check_body(body: str) -> None:
    if not body.endswith("\n") or "\n\n" in body or body.startswith("\n"):
        raise CheckpointInvalid("note body must be non-empty lines each ending in a newline")
