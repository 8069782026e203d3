"""Key material: the broker's own keys, and an agency's private key directory.

Secrets are read from files that only their owner can read (mode 0600 or stricter), or from
environment variables (base64), never from the repository or the registry. Key ids are a short hash
of the public key, so anyone holding the public key can recompute them.

Broker key directory (made by `generate_broker_keys`)::

    signing.pem            current Ed25519 signing key, PKCS#8 PEM        0600
    signing-history.json   every signing public key, newest first         public
    log-pseudonym.secret   HMAC secret for subject pseudonyms in the log  0600, base64
    kafka-key.secret       HMAC secret for Kafka record keys              0600, base64

Agency key directory (made by `generate_agency_keys`; lives with the agency, not the broker)::

    agency.json            agency id and public key list, newest first    public
    jwt-<kid>.pem          token signing key (Ed25519 or P-256)           0600
    enc-<kid>.pem          X25519 decryption key                          0600
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from broker.errors import KeyFileError

MIN_SECRET_BYTES = 32
SIGNING_FILE = "signing.pem"
HISTORY_FILE = "signing-history.json"
# File and variable names, not secrets.
LOG_SECRET_FILE = "log-pseudonym.secret"  # noqa: S105
KAFKA_SECRET_FILE = "kafka-key.secret"  # noqa: S105
AGENCY_MANIFEST = "agency.json"

ENV_SIGNING_KEY = "SGB_SIGNING_KEY"
ENV_OLD_VERIFY_KEYS = "SGB_SIGNING_OLD_PUBLIC_KEYS"
ENV_LOG_SECRET = "SGB_LOG_PSEUDONYM_SECRET"  # noqa: S105
ENV_KAFKA_SECRET = "SGB_KAFKA_KEY_SECRET"  # noqa: S105

JwtAlg = Literal["EdDSA", "ES256"]
JwtPrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | x25519.X25519PublicKey | ec.EllipticCurvePublicKey


def key_id(public_key: PublicKey) -> str:
    """Return the key id: first 16 hex digits of SHA-256 over the SubjectPublicKeyInfo DER.

    SPKI includes the algorithm, so an Ed25519 and an X25519 key never share an id.
    """
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()[:16]


# --- files only their owner may read -------------------------------------------------------------


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
        os.fchmod(fd, mode)  # the umask may have narrowed or (for public files) mattered
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _make_private_dir(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def _pem(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_pem(path: Path) -> Any:
    try:
        return serialization.load_pem_private_key(read_private_file(path), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"key file {path} is not an unencrypted PKCS#8 PEM private key") from exc


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip() + "=" * (-len(text.strip()) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFileError(f"{what} is not valid base64") from exc


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
        """Return key id → public key, as `schemas.envelope.open_envelope` wants it."""
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
    seed = _unb64(env[ENV_SIGNING_KEY], ENV_SIGNING_KEY)
    if len(seed) != 32:
        raise KeyFileError(f"{ENV_SIGNING_KEY} must be the base64 of a 32-byte Ed25519 seed")
    older = [
        ed25519.Ed25519PublicKey.from_public_bytes(_unb64(item, ENV_OLD_VERIFY_KEYS))
        for item in env.get(ENV_OLD_VERIFY_KEYS, "").split(",")
        if item.strip()
    ]
    return _broker_keys(
        ed25519.Ed25519PrivateKey.from_private_bytes(seed),
        older,
        _unb64(env[ENV_LOG_SECRET], ENV_LOG_SECRET),
        _unb64(env[ENV_KAFKA_SECRET], ENV_KAFKA_SECRET),
    )


def _broker_keys_from_dir(directory: Path) -> BrokerKeys:
    signing_key = _load_pem(directory / SIGNING_FILE)
    if not isinstance(signing_key, ed25519.Ed25519PrivateKey):
        raise KeyFileError(f"{directory / SIGNING_FILE} is not an Ed25519 key")
    return _broker_keys(
        signing_key,
        _read_history(directory),
        _unb64(read_private_file(directory / LOG_SECRET_FILE).decode("ascii"), LOG_SECRET_FILE),
        _unb64(read_private_file(directory / KAFKA_SECRET_FILE).decode("ascii"), KAFKA_SECRET_FILE),
    )


def _read_history(directory: Path) -> list[ed25519.Ed25519PublicKey]:
    path = directory / HISTORY_FILE
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text("utf-8"))
        return [ed25519.Ed25519PublicKey.from_public_bytes(_unb64(e["public_key"], HISTORY_FILE))
                for e in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"{path} is not a valid signing key history") from exc


def _write_history(directory: Path, entries: list[dict[str, str]]) -> None:
    write_public_file(directory / HISTORY_FILE, (json.dumps(entries, indent=2) + "\n").encode("utf-8"))


def _history_entry(key: ed25519.Ed25519PublicKey, now: datetime) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kid": key_id(key), "public_key": _b64(raw), "created_at": now.isoformat()}


def generate_broker_keys(directory: Path, *, now: datetime) -> BrokerKeys:
    """Create a fresh broker key set in `directory`; refuses to overwrite an existing one."""
    if (directory / SIGNING_FILE).exists():
        raise KeyFileError(f"{directory / SIGNING_FILE} exists; use rotation instead of overwriting")
    _make_private_dir(directory)
    signing_key = ed25519.Ed25519PrivateKey.generate()
    write_private_file(directory / LOG_SECRET_FILE, base64.b64encode(secrets.token_bytes(32)) + b"\n")
    write_private_file(directory / KAFKA_SECRET_FILE, base64.b64encode(secrets.token_bytes(32)) + b"\n")
    _write_history(directory, [_history_entry(signing_key.public_key(), now)])
    write_private_file(directory / SIGNING_FILE, _pem(signing_key))
    return _broker_keys_from_dir(directory)


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


@dataclass(frozen=True)
class AgencyJwtKey:
    """One of the agency's token signing keys."""

    kid: str
    alg: JwtAlg
    private_key: JwtPrivateKey = field(repr=False)
    created_at: str


@dataclass(frozen=True)
class AgencyEncryptionKey:
    """One of the agency's X25519 keys; envelopes sealed to its kid open only with it."""

    kid: str
    private_key: x25519.X25519PrivateKey = field(repr=False)
    created_at: str


@dataclass(frozen=True)
class AgencyKeys:
    """An agency's private keys, newest first; older ones stay so older envelopes still open."""

    agency_id: str
    jwt_keys: tuple[AgencyJwtKey, ...]
    encryption_keys: tuple[AgencyEncryptionKey, ...]

    @property
    def current_jwt_key(self) -> AgencyJwtKey:
        return self.jwt_keys[0]

    @property
    def current_encryption_key(self) -> AgencyEncryptionKey:
        return self.encryption_keys[0]

    def decryption_keys(self) -> dict[str, x25519.X25519PrivateKey]:
        """Return kid → private key, as `schemas.envelope.open_envelope` wants it."""
        return {k.kid: k.private_key for k in self.encryption_keys}


def _new_jwt_key(alg: JwtAlg) -> JwtPrivateKey:
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def generate_agency_keys(
    directory: Path, *, agency_id: str, now: datetime, alg: JwtAlg = "EdDSA"
) -> AgencyKeys:
    """Add a new token key and a new encryption key to an agency key directory (creating it).

    Called again, this is rotation: the new keys come first and the old ones are kept.
    """
    manifest_path = directory / AGENCY_MANIFEST
    if manifest_path.exists():
        manifest = _read_manifest(directory)
        if manifest["agency_id"] != agency_id:
            owner = manifest["agency_id"]
            raise KeyFileError(f"{directory} holds keys of agency {owner!r}, not {agency_id!r}")
    else:
        manifest = {"agency_id": agency_id, "jwt_keys": [], "encryption_keys": []}
    _make_private_dir(directory)
    jwt_key, enc_key = _new_jwt_key(alg), x25519.X25519PrivateKey.generate()
    jwt_kid, enc_kid = key_id(jwt_key.public_key()), key_id(enc_key.public_key())
    write_private_file(directory / f"jwt-{jwt_kid}.pem", _pem(jwt_key))
    write_private_file(directory / f"enc-{enc_kid}.pem", _pem(enc_key))
    stamp = now.isoformat()
    manifest["jwt_keys"].insert(0, {"kid": jwt_kid, "alg": alg, "created_at": stamp})
    manifest["encryption_keys"].insert(0, {"kid": enc_kid, "created_at": stamp})
    # The manifest goes last: a crash before it leaves unused key files, never a listed missing key.
    write_public_file(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    return load_agency_keys(directory)


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / AGENCY_MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path} is missing or not JSON; run generate-keys first") from exc
    if not isinstance(manifest, dict) or not {"agency_id", "jwt_keys", "encryption_keys"} <= manifest.keys():
        raise KeyFileError(f"{path} is not an agency key manifest")
    return manifest


def load_agency_keys(directory: Path) -> AgencyKeys:
    """Load an agency key directory, checking every private key file's permissions and kid."""
    manifest = _read_manifest(directory)
    try:
        jwt_keys = tuple(_load_jwt_key(directory, e) for e in manifest["jwt_keys"])
        enc_keys = tuple(_load_encryption_key(directory, e) for e in manifest["encryption_keys"])
    except (KeyError, TypeError) as exc:
        raise KeyFileError(f"{directory / AGENCY_MANIFEST} has an invalid key entry") from exc
    if not jwt_keys or not enc_keys:
        raise KeyFileError(f"{directory} holds no keys; run generate-keys")
    return AgencyKeys(agency_id=manifest["agency_id"], jwt_keys=jwt_keys, encryption_keys=enc_keys)


def _load_jwt_key(directory: Path, entry: dict[str, str]) -> AgencyJwtKey:
    private_key = _load_pem(directory / f"jwt-{entry['kid']}.pem")
    alg: JwtAlg
    if entry["alg"] == "EdDSA" and isinstance(private_key, ed25519.Ed25519PrivateKey):
        alg = "EdDSA"
    elif entry["alg"] == "ES256" and isinstance(private_key, ec.EllipticCurvePrivateKey):
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise KeyFileError(f"jwt-{entry['kid']}.pem is not a P-256 key")
        alg = "ES256"
    else:
        raise KeyFileError(f"jwt-{entry['kid']}.pem does not hold an {entry['alg']} key")
    _check_kid(private_key.public_key(), entry["kid"])
    return AgencyJwtKey(kid=entry["kid"], alg=alg, private_key=private_key, created_at=entry["created_at"])


def _load_encryption_key(directory: Path, entry: dict[str, str]) -> AgencyEncryptionKey:
    private_key = _load_pem(directory / f"enc-{entry['kid']}.pem")
    if not isinstance(private_key, x25519.X25519PrivateKey):
        raise KeyFileError(f"enc-{entry['kid']}.pem does not hold an X25519 key")
    _check_kid(private_key.public_key(), entry["kid"])
    return AgencyEncryptionKey(kid=entry["kid"], private_key=private_key, created_at=entry["created_at"])


def _check_kid(public_key: PublicKey, kid: str) -> None:
    # A swapped file would otherwise sign or decrypt under another key's name.
    if key_id(public_key) != kid:
        raise KeyFileError(f"key file for kid {kid} holds a different key")
