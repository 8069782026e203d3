"""Key files the broker's key tools write and both the broker and the agency consumers read.

The consumers may not import the broker, so the on-disk formats, key ids and the owner-only check
are read here, once. Writing stays with the broker's tools (`broker/partnership/keys.py`).

Agency key directory (one per agency, kept by the agency, never by the broker)::

    agency.json            {"agency_id", "jwt_keys": [{kid, alg, created_at}],
                            "encryption_keys": [{kid, created_at, suite?}],
                            "witness_keys": [{kid, name, created_at}]?}, each list newest first  public
    jwt-<kid>.pem          token signing key, PKCS#8 PEM (Ed25519 or P-256)                   0600
    enc-<kid>.pem          decryption key: X25519, PKCS#8 PEM; or, with `suite` the hybrid    0600
                           (`schemas.envelope.HYBRID_SUITE_NAME`), ML-KEM-768 then X25519 PKCS#8
                           PEM blocks (`transport.kem`)
    witness-<kid>.pem      Ed25519 key cosigning the log's checkpoints, PKCS#8 PEM            0600

An encryption entry without `suite` is X25519 (every directory made before the hybrid existed), and a
directory without `witness_keys` has not been given a witness key yet: `generate-keys` again adds one.

Broker signing history (in the broker key directory, and given to every agency)::

    signing-history.json   [{"kid", "public_key" (raw Ed25519, base64url), "created_at"}], newest first

`created_at` is ISO 8601 with a UTC offset: when the broker began signing with that key, and so when
the key before it was retired (`read_dated_signing_history`, which the consumers use to refuse a
retired key's late signatures).

A key id is the first 16 hex digits of SHA-256 over the public key's SubjectPublicKeyInfo DER (a
hybrid key's id: over both parts' SPKIs, `transport.kem`);
every id is recomputed on reading, so a swapped or edited file cannot put a key under another's
name. Every failure is a `KeyFileError` whose message names the file and the fix; the broker and
the consumer re-raise it as their own error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from schemas.envelope import HYBRID_SUITE_NAME, SUITE_NAME
from transport.kem import HybridPrivateKey, HybridPublicKey, KemKeyError, RecipientPrivateKey

AGENCY_MANIFEST: Final = "agency.json"
SIGNING_HISTORY: Final = "signing-history.json"

JwtAlg = Literal["EdDSA", "ES256"]
JwtPrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | x25519.X25519PublicKey | ec.EllipticCurvePublicKey | HybridPublicKey


class KeyFileError(Exception):
    """Key material is missing, unreadable, unsafe or not what its name says."""


def key_id(public_key: PublicKey) -> str:
    """Return the key id: first 16 hex digits of SHA-256 over the SubjectPublicKeyInfo DER.

    SPKI includes the algorithm, so an Ed25519 and an X25519 key never share an id.
    """
    if isinstance(public_key, HybridPublicKey):
        return public_key.key_id()
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()[:16]


def jwt_key_file(kid: str) -> str:
    return f"jwt-{kid}.pem"


def encryption_key_file(kid: str) -> str:
    return f"enc-{kid}.pem"


def witness_key_file(kid: str) -> str:
    return f"witness-{kid}.pem"


def read_private_file(path: Path) -> bytes:
    """Read a secret file, refusing one that is a symlink, not ours, or readable by others."""
    try:
        info = path.lstat()
    except FileNotFoundError as exc:
        raise KeyFileError(f"key file {path} does not exist") from exc
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file (symlinks are refused)")
    if info.st_uid != os.geteuid():
        raise KeyFileError(f"key file {path} is owned by uid {info.st_uid}, not by this user")
    if info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        raise KeyFileError(f"key file {path} has mode {mode:04o}; run `chmod 600 {path}`")
    return path.read_bytes()


def load_private_pem(path: Path) -> Any:
    """Load an unencrypted PKCS#8 PEM private key from an owner-only file (any algorithm)."""
    try:
        return serialization.load_pem_private_key(read_private_file(path), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"key file {path} is not an unencrypted PKCS#8 PEM private key") from exc


def decode_b64(text: str, what: str) -> bytes:
    """Decode base64 in either alphabet, padded or not; `what` names the value in the error."""
    text = text.strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except ValueError as exc:  # binascii.Error, or text that is not ASCII
        raise KeyFileError(f"{what} is not valid base64") from exc


# --- an agency's key directory -------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyJwtKey:
    """One of the agency's token signing keys (API tokens and receipts)."""

    kid: str
    alg: JwtAlg
    private_key: JwtPrivateKey = field(repr=False)
    created_at: str


@dataclass(frozen=True)
class AgencyEncryptionKey:
    """One of the agency's decryption keys (X25519 or hybrid); envelopes sealed to its kid open only with it."""

    kid: str
    private_key: RecipientPrivateKey = field(repr=False)
    created_at: str


@dataclass(frozen=True)
class AgencyWitnessKey:
    """The agency's Ed25519 key for cosigning checkpoints it has checked, under its witness `name`."""

    kid: str
    name: str
    private_key: ed25519.Ed25519PrivateKey = field(repr=False)
    created_at: str


@dataclass(frozen=True)
class AgencyKeys:
    """An agency's private keys, newest first; older ones stay so older envelopes still open."""

    agency_id: str
    jwt_keys: tuple[AgencyJwtKey, ...]
    encryption_keys: tuple[AgencyEncryptionKey, ...]
    witness_keys: tuple[AgencyWitnessKey, ...] = ()

    @property
    def current_jwt_key(self) -> AgencyJwtKey:
        return self.jwt_keys[0]

    @property
    def current_encryption_key(self) -> AgencyEncryptionKey:
        return self.encryption_keys[0]

    @property
    def current_witness_key(self) -> AgencyWitnessKey | None:
        return self.witness_keys[0] if self.witness_keys else None

    def decryption_keys(self) -> dict[str, RecipientPrivateKey]:
        """Return kid → private key, as `transport.sealing.open_envelope` wants it."""
        return {k.kid: k.private_key for k in self.encryption_keys}


def read_agency_manifest(directory: Path, *, agency_id: str | None = None) -> dict[str, Any]:
    """Read `agency.json`; with `agency_id`, refuse a directory holding another agency's keys."""
    path = directory / AGENCY_MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path} is missing or not JSON; run generate-keys first") from exc
    if not isinstance(manifest, dict) or not {"agency_id", "jwt_keys", "encryption_keys"} <= manifest.keys():
        raise KeyFileError(f"{path} is not an agency key manifest")
    if agency_id is not None and manifest["agency_id"] != agency_id:
        owner = manifest["agency_id"]
        raise KeyFileError(f"{directory} holds keys of agency {owner!r}, not {agency_id!r}")
    return manifest


def load_agency_keys(directory: Path, *, agency_id: str | None = None) -> AgencyKeys:
    """Load every key an agency directory lists, checking each file's permissions and kid."""
    manifest = read_agency_manifest(directory, agency_id=agency_id)
    jwt_entries, enc_entries = manifest_entries(directory, manifest)
    return AgencyKeys(
        agency_id=manifest["agency_id"],
        jwt_keys=tuple(load_jwt_key(directory, e) for e in jwt_entries),
        encryption_keys=tuple(load_encryption_key(directory, e) for e in enc_entries),
        witness_keys=tuple(load_witness_key(directory, e) for e in witness_entries(directory, manifest)),
    )


def manifest_entries(directory: Path, manifest: dict[str, Any]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Return the token and encryption key entries, newest first; refuse a directory with none."""
    jwt_entries, enc_entries = manifest["jwt_keys"], manifest["encryption_keys"]
    if not (_entries(jwt_entries, {"kid", "alg", "created_at"}) and _entries(enc_entries, {"kid", "created_at"})):
        raise KeyFileError(f"{directory / AGENCY_MANIFEST} has an invalid key entry")
    if not jwt_entries or not enc_entries:
        raise KeyFileError(f"{directory} holds no keys; run generate-keys")
    return jwt_entries, enc_entries


def witness_entries(directory: Path, manifest: dict[str, Any]) -> list[dict[str, str]]:
    """Return the witness key entries, newest first (none in a directory made before witnessing)."""
    entries = manifest.get("witness_keys", [])
    if not _entries(entries, {"kid", "name", "created_at"}):
        raise KeyFileError(f"{directory / AGENCY_MANIFEST} has an invalid witness key entry")
    return list(entries)


def _entries(value: object, fields: set[str]) -> bool:
    return isinstance(value, list) and all(
        isinstance(entry, dict) and fields <= entry.keys() and all(isinstance(entry[f], str) for f in fields)
        for entry in value
    )


def load_jwt_key(directory: Path, entry: dict[str, str]) -> AgencyJwtKey:
    """Load one token key named by a manifest entry; its algorithm and kid must match the entry."""
    kid, name = entry["kid"], jwt_key_file(entry["kid"])
    private_key = load_private_pem(directory / name)
    alg: JwtAlg
    if entry["alg"] == "EdDSA" and isinstance(private_key, ed25519.Ed25519PrivateKey):
        alg = "EdDSA"
    elif entry["alg"] == "ES256" and isinstance(private_key, ec.EllipticCurvePrivateKey):
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise KeyFileError(f"{name} is not a P-256 key")
        alg = "ES256"
    else:
        raise KeyFileError(f"{name} does not hold an {entry['alg']} key")
    _check_kid(private_key.public_key(), kid)
    return AgencyJwtKey(kid=kid, alg=alg, private_key=private_key, created_at=entry["created_at"])


def load_encryption_key(directory: Path, entry: dict[str, str]) -> AgencyEncryptionKey:
    """Load one decryption key named by a manifest entry, of the entry's suite; its kid must match."""
    kid, name = entry["kid"], encryption_key_file(entry["kid"])
    suite = entry.get("suite", SUITE_NAME)
    private_key: RecipientPrivateKey
    if suite == HYBRID_SUITE_NAME:
        try:
            private_key = HybridPrivateKey.from_pem(read_private_file(directory / name))
        except KemKeyError as exc:
            raise KeyFileError(f"{name} does not hold a hybrid key: {exc}") from exc
    elif suite == SUITE_NAME:
        private_key = load_private_pem(directory / name)
        if not isinstance(private_key, x25519.X25519PrivateKey):
            raise KeyFileError(f"{name} does not hold an X25519 key")
    else:
        raise KeyFileError(f"{directory / AGENCY_MANIFEST}: key {kid} names an unknown suite")
    _check_kid(private_key.public_key(), kid)
    return AgencyEncryptionKey(kid=kid, private_key=private_key, created_at=entry["created_at"])


def load_witness_key(directory: Path, entry: dict[str, str]) -> AgencyWitnessKey:
    """Load one witness key named by a manifest entry; an Ed25519 key whose kid matches the entry."""
    kid, name = entry["kid"], witness_key_file(entry["kid"])
    private_key = load_private_pem(directory / name)
    if not isinstance(private_key, ed25519.Ed25519PrivateKey):
        raise KeyFileError(f"{name} does not hold an Ed25519 key")
    _check_kid(private_key.public_key(), kid)
    return AgencyWitnessKey(kid=kid, name=entry["name"], private_key=private_key, created_at=entry["created_at"])


def _check_kid(public_key: PublicKey, kid: str) -> None:
    # A swapped file would otherwise sign or decrypt under another key's name.
    if key_id(public_key) != kid:
        raise KeyFileError(f"key file for kid {kid} holds a different key")


# --- the broker's signing history ----------------------------------------------------------------


@dataclass(frozen=True)
class SigningHistoryEntry:
    """One key of the broker's signing history and when the broker began to sign with it."""

    kid: str
    public_key: ed25519.Ed25519PublicKey = field(repr=False)
    created_at: datetime


def read_signing_history(path: Path) -> list[ed25519.Ed25519PublicKey]:
    """Return the broker's signing public keys, newest first; every listed kid must be its key's id."""
    return [key for key, _ in _signing_history(path)]


def read_dated_signing_history(path: Path) -> list[SigningHistoryEntry]:
    """Return the history with each key's `created_at`, newest first; refuse one undated or out of order.

    Stricter than `read_signing_history` (which the broker reads): a consumer works out from these
    dates when each key was retired, so a date it cannot read, or a key listed after one created
    before it, must not be guessed at.
    """
    entries: list[SigningHistoryEntry] = []
    for key, entry in _signing_history(path):
        kid, created = entry["kid"], aware_time(entry.get("created_at"))
        if created is None:
            raise KeyFileError(f"{path}: key {kid} has no created_at in ISO 8601 with a UTC offset")
        if entries and created > entries[-1].created_at:
            raise KeyFileError(f"{path}: key {kid} is listed after a key made before it; the history is newest first")
        entries.append(SigningHistoryEntry(kid=kid, public_key=key, created_at=created))
    return entries


def _signing_history(path: Path) -> list[tuple[ed25519.Ed25519PublicKey, dict[str, Any]]]:
    try:
        entries = json.loads(path.read_bytes())
        keys = [ed25519.Ed25519PublicKey.from_public_bytes(decode_b64(e["public_key"], str(path))) for e in entries]
        listed = [e["kid"] for e in entries]
    except OSError as exc:
        raise KeyFileError(f"cannot read the broker signing history {path}: {exc}") from exc
    except (ValueError, KeyError, TypeError, KeyFileError) as exc:
        raise KeyFileError(f"{path} is not a broker signing key history") from exc
    if listed != [key_id(k) for k in keys]:
        raise KeyFileError(f"{path} lists a kid that is not its key's id")
    return list(zip(keys, entries, strict=True))


def aware_time(value: object) -> datetime | None:
    """An ISO 8601 time with a UTC offset; None for anything else (a local time of an unknown place)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None
