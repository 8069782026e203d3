"""Key material: the broker's own keys, and an agency's private key directory.

Secrets are read from files that only their owner can read (mode 0600 or stricter), or from
environment variables (base64), never from the repository or the registry. Key ids are a short hash
of the public key, so anyone holding the public key can recompute them.

Broker key directory (made by `generate_broker_keys`)::

    signing.pem            current Ed25519 signing key, PKCS#8 PEM        0600
    signing-history.json   every signing public key, newest first         public
    log-pseudonym.secret   HMAC secret for subject pseudonyms in the log  0600, base64
    kafka-key.secret       HMAC secret for Kafka record keys              0600, base64

Agency key directory: made by `generate_agency_keys` and kept by the agency, not the broker; its
format, the key ids and the reading of every file both sides read are `transport.keyfiles`'.
Failures there surface here as `broker.errors.KeyFileError`.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from broker.errors import KeyFileError
from schemas.envelope import HYBRID_SUITE_NAME, SUITE_NAME, SuiteName
from transport import keyfiles
from transport.kem import HybridPrivateKey, RecipientPrivateKey
from transport.keyfiles import (
    AGENCY_MANIFEST,
    AgencyEncryptionKey,
    AgencyJwtKey,
    AgencyKeys,
    AgencyWitnessKey,
    JwtAlg,
    JwtPrivateKey,
    key_id,
)

__all__ = [
    "AGENCY_MANIFEST",
    "ENV_KAFKA_SECRET",
    "ENV_LOG_SECRET",
    "ENV_OLD_VERIFY_KEYS",
    "ENV_SIGNING_KEY",
    "HISTORY_FILE",
    "KAFKA_SECRET_FILE",
    "LOG_SECRET_FILE",
    "MIN_SECRET_BYTES",
    "SIGNING_FILE",
    "AgencyEncryptionKey",
    "AgencyJwtKey",
    "AgencyKeys",
    "AgencyWitnessKey",
    "BrokerKeys",
    "JwtAlg",
    "JwtPrivateKey",
    "generate_agency_keys",
    "generate_broker_keys",
    "key_id",
    "load_agency_keys",
    "load_broker_keys",
    "rotate_broker_signing_key",
    "write_private_file",
    "write_public_file",
]

MIN_SECRET_BYTES = 32
SIGNING_FILE = "signing.pem"
HISTORY_FILE = keyfiles.SIGNING_HISTORY
# File and variable names, not secrets.
LOG_SECRET_FILE = "log-pseudonym.secret"  # noqa: S105
KAFKA_SECRET_FILE = "kafka-key.secret"  # noqa: S105

ENV_SIGNING_KEY = "SGB_SIGNING_KEY"
ENV_OLD_VERIFY_KEYS = "SGB_SIGNING_OLD_PUBLIC_KEYS"
ENV_LOG_SECRET = "SGB_LOG_PSEUDONYM_SECRET"  # noqa: S105
ENV_KAFKA_SECRET = "SGB_KAFKA_KEY_SECRET"  # noqa: S105

P = ParamSpec("P")
R = TypeVar("R")


def _broker_error(function: Callable[P, R]) -> Callable[P, R]:
    """Re-raise the shared key-file reader's errors as the broker's own (one error tree per package)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except keyfiles.KeyFileError as exc:
            raise KeyFileError(str(exc)) from exc

    return wrapper


# --- files only their owner may read (reading them: `transport.keyfiles.read_private_file`) -------


def write_private_file(path: Path, data: bytes) -> None:
    """Write a secret atomically with mode 0600 from the first byte (never briefly world-readable)."""
    _atomic_write(path, data, mode=0o600)


def write_public_file(path: Path, data: bytes) -> None:
    """Write a public file atomically (mode 0644)."""
    _atomic_write(path, data, mode=0o644)


def _atomic_write(path: Path, data: bytes, *, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            os.fchmod(fd, mode)  # the umask may have narrowed or (for public files) mattered
            # os.write may write less than asked (a full disk, a file-size limit): loop until all is
            # written or it raises, so a truncated file never replaces a good one.
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if written == 0:
                    raise OSError(f"no progress writing {path}")
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # no half-written temporary left beside the file
        raise


def _make_private_dir(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def _pem(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | RecipientPrivateKey) -> bytes:
    if isinstance(key, HybridPrivateKey):
        return key.to_pem()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# --- the broker's keys ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerKeys:
    """The broker's signing key, the public keys it signed with before, and its HMAC secrets."""

    signing_key: ed25519.Ed25519PrivateKey = field(repr=False)
    signing_key_id: str
    # Newest first; includes the current key, so consumers can verify old and new envelopes.
    verify_keys: tuple[tuple[str, ed25519.Ed25519PublicKey], ...]
    log_pseudonym_secret: bytes = field(repr=False)
    kafka_key_secret: bytes = field(repr=False)

    def verify_key_map(self) -> dict[str, ed25519.Ed25519PublicKey]:
        """Return key id → public key, as `transport.sealing.open_envelope` wants it."""
        return dict(self.verify_keys)


def _checked_secret(data: bytes, what: str) -> bytes:
    if len(data) < MIN_SECRET_BYTES:
        raise KeyFileError(f"{what} must be at least {MIN_SECRET_BYTES} bytes")
    return data


def _broker_keys(
    signing_key: ed25519.Ed25519PrivateKey,
    older: list[ed25519.Ed25519PublicKey],
    log_secret: bytes,
    kafka_secret: bytes,
) -> BrokerKeys:
    current_id = key_id(signing_key.public_key())
    verify = [(current_id, signing_key.public_key())]
    verify += [(key_id(k), k) for k in older if key_id(k) != current_id]
    return BrokerKeys(
        signing_key=signing_key,
        signing_key_id=current_id,
        verify_keys=tuple(verify),
        log_pseudonym_secret=_checked_secret(log_secret, "the log pseudonym secret"),
        kafka_key_secret=_checked_secret(kafka_secret, "the Kafka key secret"),
    )


@_broker_error
def load_broker_keys(directory: Path | None, environ: Mapping[str, str] | None = None) -> BrokerKeys:
    """Load the broker's keys from `SGB_SIGNING_KEY` & co. if set, else from `directory`."""
    env = os.environ if environ is None else environ
    if ENV_SIGNING_KEY in env:
        return _broker_keys_from_env(env)
    if directory is None:
        raise KeyFileError(f"no broker key directory given and {ENV_SIGNING_KEY} is not set")
    return _broker_keys_from_dir(directory)


def _broker_keys_from_env(env: Mapping[str, str]) -> BrokerKeys:
    for name in (ENV_LOG_SECRET, ENV_KAFKA_SECRET):
        if not env.get(name):
            raise KeyFileError(f"{ENV_SIGNING_KEY} is set but {name} is not")
    seed = keyfiles.decode_b64(env[ENV_SIGNING_KEY], ENV_SIGNING_KEY)
    if len(seed) != 32:
        raise KeyFileError(f"{ENV_SIGNING_KEY} must be the base64 of a 32-byte Ed25519 seed")
    older = [
        ed25519.Ed25519PublicKey.from_public_bytes(keyfiles.decode_b64(item, ENV_OLD_VERIFY_KEYS))
        for item in env.get(ENV_OLD_VERIFY_KEYS, "").split(",")
        if item.strip()
    ]
    return _broker_keys(
        ed25519.Ed25519PrivateKey.from_private_bytes(seed),
        older,
        keyfiles.decode_b64(env[ENV_LOG_SECRET], ENV_LOG_SECRET),
        keyfiles.decode_b64(env[ENV_KAFKA_SECRET], ENV_KAFKA_SECRET),
    )


def _broker_keys_from_dir(directory: Path) -> BrokerKeys:
    if not directory.is_dir():
        # The likeliest cause is a first start, or a mistyped path: say how the directory is made.
        raise KeyFileError(
            f"no broker key directory at {directory}: make one with "
            f"`python -m broker.partnership.cli init-broker-keys --out {directory}`, or set {ENV_SIGNING_KEY} & co."
        )
    signing_key = keyfiles.load_private_pem(directory / SIGNING_FILE)
    if not isinstance(signing_key, ed25519.Ed25519PrivateKey):
        raise KeyFileError(f"{directory / SIGNING_FILE} is not an Ed25519 key")
    history = directory / HISTORY_FILE
    return _broker_keys(
        signing_key,
        keyfiles.read_signing_history(history) if history.exists() else [],
        _secret_file(directory / LOG_SECRET_FILE),
        _secret_file(directory / KAFKA_SECRET_FILE),
    )


def _secret_file(path: Path) -> bytes:
    text = keyfiles.read_private_file(path).decode("ascii", "replace")
    return keyfiles.decode_b64(text, path.name)


def _write_history(directory: Path, entries: list[dict[str, str]]) -> None:
    write_public_file(directory / HISTORY_FILE, (json.dumps(entries, indent=2) + "\n").encode("utf-8"))


def _history_entry(key: ed25519.Ed25519PublicKey, now: datetime) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kid": key_id(key), "public_key": _b64(raw), "created_at": now.isoformat()}


@_broker_error
def generate_broker_keys(directory: Path, *, now: datetime) -> BrokerKeys:
    """Create a fresh broker key set in `directory`; refuses to overwrite an existing one."""
    # Any file of a key set, not just the signing key: new HMAC secrets would give every child a new
    # pseudonym in the log and every record a new Kafka key, severing them from everything before.
    for name in (SIGNING_FILE, LOG_SECRET_FILE, KAFKA_SECRET_FILE, HISTORY_FILE):
        if (directory / name).exists():
            raise KeyFileError(f"{directory / name} exists; use rotation instead of overwriting")
    _make_private_dir(directory)
    signing_key = ed25519.Ed25519PrivateKey.generate()
    write_private_file(directory / LOG_SECRET_FILE, base64.b64encode(secrets.token_bytes(32)) + b"\n")
    write_private_file(directory / KAFKA_SECRET_FILE, base64.b64encode(secrets.token_bytes(32)) + b"\n")
    _write_history(directory, [_history_entry(signing_key.public_key(), now)])
    write_private_file(directory / SIGNING_FILE, _pem(signing_key))
    return _broker_keys_from_dir(directory)


@_broker_error
def rotate_broker_signing_key(directory: Path, *, now: datetime) -> BrokerKeys:
    """Make a new current signing key; older public keys stay in the history for verification.

    The HMAC secrets are not rotated: a new secret would give every subject a new pseudonym and
    break the link between old and new log entries about the same child.
    """
    _broker_keys_from_dir(directory)  # refuse to rotate a key set that is broken or unsafe
    new_key = ed25519.Ed25519PrivateKey.generate()
    path = directory / HISTORY_FILE
    history = json.loads(path.read_text("utf-8")) if path.exists() else []
    # History first, then the key: a crash in between leaves the old key current and still listed.
    _write_history(directory, [_history_entry(new_key.public_key(), now), *history])
    write_private_file(directory / SIGNING_FILE, _pem(new_key))
    return _broker_keys_from_dir(directory)


# --- an agency's own keys (generated by the agency CLI, kept by the agency) ----------------------


def _new_jwt_key(alg: JwtAlg) -> JwtPrivateKey:
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def _new_encryption_key(suite: SuiteName) -> RecipientPrivateKey:
    if suite == HYBRID_SUITE_NAME:
        return HybridPrivateKey.generate()
    return x25519.X25519PrivateKey.generate()


@_broker_error
def generate_agency_keys(
    directory: Path, *, agency_id: str, now: datetime, alg: JwtAlg = "EdDSA", suite: SuiteName = SUITE_NAME
) -> AgencyKeys:
    """Add a new token key, encryption key (for `suite`) and witness key to an agency key directory.

    Creates the directory the first time. Called again, this is rotation: the new keys come first and
    the old ones are kept, so envelopes sealed to an old key still open; rotating with the hybrid
    suite is how an agency moves from X25519 to post-quantum sealing. The witness key cosigns the
    log's checkpoints under the agency's id as its witness name.
    """
    manifest_path = directory / AGENCY_MANIFEST
    if manifest_path.exists():
        manifest = keyfiles.read_agency_manifest(directory, agency_id=agency_id)
    else:
        manifest = {"agency_id": agency_id, "jwt_keys": [], "encryption_keys": []}
    _make_private_dir(directory)
    jwt_key, enc_key = _new_jwt_key(alg), _new_encryption_key(suite)
    witness_key = ed25519.Ed25519PrivateKey.generate()
    jwt_kid, enc_kid = key_id(jwt_key.public_key()), key_id(enc_key.public_key())
    witness_kid = key_id(witness_key.public_key())
    write_private_file(directory / keyfiles.jwt_key_file(jwt_kid), _pem(jwt_key))
    write_private_file(directory / keyfiles.encryption_key_file(enc_kid), _pem(enc_key))
    write_private_file(directory / keyfiles.witness_key_file(witness_kid), _pem(witness_key))
    stamp = now.isoformat()
    manifest["jwt_keys"].insert(0, {"kid": jwt_kid, "alg": alg, "created_at": stamp})
    enc_entry = {"kid": enc_kid, "created_at": stamp}
    # X25519 entries stay as they always were, so older readers still read directories we write.
    manifest["encryption_keys"].insert(0, enc_entry if suite == SUITE_NAME else {**enc_entry, "suite": suite})
    witness_entry = {"kid": witness_kid, "name": agency_id, "created_at": stamp}
    manifest["witness_keys"] = [witness_entry, *manifest.get("witness_keys", [])]
    # The manifest goes last: a crash before it leaves unused key files, never a listed missing key.
    write_public_file(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    return keyfiles.load_agency_keys(directory)


@_broker_error
def load_agency_keys(directory: Path) -> AgencyKeys:
    """Load an agency key directory, checking every private key file's permissions and kid."""
    return keyfiles.load_agency_keys(directory)
