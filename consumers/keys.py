"""What one agency's consumer holds: its token key, decryption keys and witness key, the broker's public keys.

The key directory and signing history formats, key ids and the 0600 check are
`transport.keyfiles`'; this picks what a consumer needs and reports any problem as a
`ConfigurationError` (the consumer refuses to start).

Broker public keys (given to every agency by the operator), either:

    signing-history.json   the broker's signing history, or the broker key directory that holds it
    or a PEM file          one or more `-----BEGIN PUBLIC KEY-----` Ed25519 blocks
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from consumers.errors import ConfigurationError
from transport import keyfiles
from transport.kem import RecipientPrivateKey
from transport.keyfiles import AgencyJwtKey, AgencyWitnessKey

_PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


@dataclass(frozen=True)
class AgencyKeyring:
    """What an agency's consumer holds: its token key, every decryption key it still has, its witness key."""

    agency_id: str
    # The current token key only: receipts and the gateway API's tokens are signed with it.
    jwt_key: AgencyJwtKey
    # kid -> key (X25519 or hybrid), current and older: an envelope sealed before a rotation still opens.
    decryption_keys: dict[str, RecipientPrivateKey] = field(repr=False)
    # The current witness key (cosigns checkpoints); None for a directory made before witnessing.
    witness_key: AgencyWitnessKey | None = None


@contextlib.contextmanager
def _configuration_errors() -> Iterator[None]:
    # One error tree per package: a bad key file is a configuration the operator must fix.
    try:
        yield
    except keyfiles.KeyFileError as exc:
        raise ConfigurationError(str(exc)) from exc


def load_agency_keyring(directory: Path, *, agency_id: str) -> AgencyKeyring:
    """Load the agency's current token key and all its decryption keys from its key directory."""
    with _configuration_errors():
        manifest = keyfiles.read_agency_manifest(directory, agency_id=agency_id)
        jwt_entries, enc_entries = keyfiles.manifest_entries(directory, manifest)
        jwt_key = keyfiles.load_jwt_key(directory, jwt_entries[0])
        decryption = {e["kid"]: keyfiles.load_encryption_key(directory, e).private_key for e in enc_entries}
        witness_entries = keyfiles.witness_entries(directory, manifest)
        witness = keyfiles.load_witness_key(directory, witness_entries[0]) if witness_entries else None
    return AgencyKeyring(agency_id=agency_id, jwt_key=jwt_key, decryption_keys=decryption, witness_key=witness)


def load_broker_public_keys(path: Path) -> dict[str, ed25519.Ed25519PublicKey]:
    """Return kid -> broker Ed25519 public key from a signing history, PEM file or key directory."""
    if path.is_dir():
        path = path / keyfiles.SIGNING_HISTORY
    if path.suffix == ".json":
        with _configuration_errors():
            keys = keyfiles.read_signing_history(path)
    else:
        keys = _from_pem(path)
    if not keys:
        raise ConfigurationError(f"{path} holds no broker public key")
    return {keyfiles.key_id(k): k for k in keys}


def _from_pem(path: Path) -> list[ed25519.Ed25519PublicKey]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read broker public keys from {path}: {exc}") from exc
    keys = []
    for block in _PEM_BLOCK.findall(data):
        try:
            key = serialization.load_pem_public_key(block)
        except ValueError as exc:
            raise ConfigurationError(f"{path} holds an unreadable public key") from exc
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise ConfigurationError(f"{path} holds a key that is not Ed25519")
        keys.append(key)
    return keys
