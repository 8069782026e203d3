"""Signed notes in the transparency-dev / ``golang.org/x/mod/sumdb/note`` format (Ed25519).

A note is UTF-8 text: a body of non-empty lines each ending in ``\\n``, a blank line, then one or
more signature lines ``— <name> <base64(key_hash[4] || signature)>``. ``key_hash`` is the first
four bytes of ``SHA-256(name || "\\n" || type || public_key)``; type 0x01 names a plain Ed25519
signature (64 bytes, the broker's), 0x04 a timestamped witness cosignature (see
:mod:`audit.cosignature`). A reader skips lines whose name and key hash it does not know, so one note
can carry the broker's signature and any number of cosignatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.errors import CheckpointInvalid

_ED25519 = b"\x01"
_SIG_PREFIX = "\u2014 "
MAX_SIGNATURES = 100
"""C2SP signed-note's cap on signature lines, so a note cannot make a verifier do unbounded work."""


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


def check_key_name(name: str) -> None:
    """Refuse a key name that a signature line could not carry unambiguously."""
    if not name or any(c.isspace() or c == "+" for c in name):
        raise CheckpointInvalid(f"bad key name {name!r}")


def sign_note(body: str, name: str, key: Ed25519PrivateKey) -> str:
    """Return ``body`` signed by ``key`` under ``name`` as a note."""
    _check_body(body)
    check_key_name(name)
    signature = key.sign(body.encode())
    blob = base64.b64encode(key_hash(name, key.public_key()) + signature).decode()
    return f"{body}\n{_SIG_PREFIX}{name} {blob}\n"


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, four-byte key hash, and what follows it (type-specific)."""

    name: str
    key_id: bytes
    blob: bytes

    @property
    def line(self) -> str:
        """Return the signature line, newline included."""
        return f"{_SIG_PREFIX}{self.name} {base64.b64encode(self.key_id + self.blob).decode()}\n"


def open_note(note: str, name: str, key: Ed25519PublicKey) -> str:
    """Return the body of ``note`` if ``key`` (under ``name``) signed it; raise otherwise."""
    body, signatures = split_note(note)
    wanted = key_hash(name, key)
    for sig in signatures:
        if sig.name == name and sig.key_id == wanted:
            if len(sig.blob) != 64:
                raise CheckpointInvalid("note signature has the wrong length")
            try:
                key.verify(sig.blob, body.encode())
            except InvalidSignature as exc:
                raise CheckpointInvalid("note signature does not verify") from exc
            return body
    raise CheckpointInvalid(f"note carries no signature by key {name}+{wanted.hex()}")


def split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Return a note's body (final newline included) and its parsed signature lines."""
    body, sep, tail = note.partition("\n\n")
    if not sep or not tail.endswith("\n"):
        raise CheckpointInvalid("note has no signature block")
    body += "\n"
    _check_body(body)
    lines = tail[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointInvalid(f"note carries more than {MAX_SIGNATURES} signatures")
    return body, [parse_signature_line(line) for line in lines]


def parse_signature_line(line: str) -> NoteSignature:
    """Parse ``— <name> <base64>`` (a trailing newline is allowed) without judging its type."""
    text = line.removesuffix("\n")
    if not text.startswith(_SIG_PREFIX) or "\n" in text:
        raise CheckpointInvalid("malformed note signature line")
    name, _, blob = text[len(_SIG_PREFIX) :].partition(" ")
    check_key_name(name)
    try:
        raw = base64.b64decode(blob, validate=True)
    except binascii.Error as exc:
        raise CheckpointInvalid("note signature is not base64") from exc
    if len(raw) <= 4:
        raise CheckpointInvalid("note signature is too short")
    return NoteSignature(name, raw[:4], raw[4:])


def with_signatures(note: str, lines: Iterable[str]) -> str:
    """Return ``note`` with signature ``lines`` appended, skipping any it already carries."""
    split_note(note)
    out = note
    for line in lines:
        parsed = parse_signature_line(line).line
        if parsed not in out.partition("\n\n")[2]:
            out += parsed
    split_note(out)
    return out


def parse_verifier_key(vkey: str) -> tuple[str, int, bytes]:
    """Parse a C2SP vkey ``<name>+<hex key hash>+<base64(type || key)>``; return (name, type, key)."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise CheckpointInvalid("a verifier key has the form name+keyhash+base64key")
    name, hash_hex, encoded = parts
    check_key_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise CheckpointInvalid("verifier key is not base64") from exc
    if len(raw) < 2 or len(hash_hex) != 8:
        raise CheckpointInvalid("malformed verifier key")
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() != hash_hex.lower():
        raise CheckpointInvalid(f"verifier key {name}: key hash {hash_hex} does not match the key")
    return name, raw[0], raw[1:]


def _check_body(body: str) -> None:
    if not body.endswith("\n") or "\n\n" in body or body.startswith("\n"):
        raise CheckpointInvalid("note body must be non-empty lines each ending in a newline")
