"""The agency's own keys and the broker's public keys, read from the files the key tools write.

The consumer must not import the broker, so this re-reads the documented on-disk formats.

Agency key directory (one per agency, kept by the agency)::

    agency.json            {"agency_id", "jwt_keys": [{kid, alg, created_at}], "encryption_keys": [...]},
                           each list newest first                                   public
    jwt-<kid>.pem          token signing key, PKCS#8 PEM (Ed25519 or P-256)         0600
    enc-<kid>.pem          X25519 decryption key, PKCS#8 PEM                        0600

Broker public keys (given to every agency by the operator), either:

    signing-history.json   [{"kid", "public_key" (raw Ed25519, base64url), "created_at"}], newest first
    or a PEM file          one or more `-----BEGIN PUBLIC KEY-----` Ed25519 blocks

A key id is the first 16 hex digits of SHA-256 over the public key's SubjectPublicKeyInfo DER;
every id is recomputed here, so a swapped or edited file cannot put a key under another's name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from consumers.errors import ConfigurationError

AGENCY_MANIFEST = "agency.json"
BROKER_HISTORY = "signing-history.json"
_PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)

JwtAlg = Literal["EdDSA", "ES256"]
JwtPrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | x25519.X25519PublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class JwtSigningKey:
    """The agency's current token key: receipts are signed with it."""

    kid: str
    alg: JwtAlg
    private_key: JwtPrivateKey = field(repr=False)


@dataclass(frozen=True)
class AgencyKeyring:
    """What an agency's consumer holds: its token key and every decryption key it still has."""

    agency_id: str
    jwt_key: JwtSigningKey
    # kid -> key, current and older: an envelope sealed before a rotation still opens.
    decryption_keys: dict[str, x25519.X25519PrivateKey] = field(repr=False)


def key_id(public_key: PublicKey) -> str:
    """Return a key's id: the first 16 hex digits of SHA-256 over its SubjectPublicKeyInfo DER."""
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()[:16]


def read_private_file(path: Path) -> bytes:
    """Read a secret file, refusing a symlink, another user's file, or one others may read."""
    try:
        info = path.lstat()
    except FileNotFoundError as exc:
        raise ConfigurationError(f"key file {path} does not exist") from exc
    if not stat.S_ISREG(info.st_mode):
        raise ConfigurationError(f"key file {path} is not a regular file (symlinks are refused)")
    if info.st_uid != os.geteuid():
        raise ConfigurationError(f"key file {path} is owned by uid {info.st_uid}, not by this user")
    if info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        raise ConfigurationError(f"key file {path} has mode {mode:04o}; run `chmod 600 {path}`")
    return path.read_bytes()


def load_agency_keyring(directory: Path, *, agency_id: str) -> AgencyKeyring:
    """Load the agency's current token key and all its decryption keys from its key directory."""
    manifest = _read_manifest(directory)
    if manifest["agency_id"] != agency_id:
        raise ConfigurationError(f"{directory} holds keys of {manifest['agency_id']!r}, not {agency_id!r}")
    try:
        jwt_entries, enc_entries = list(manifest["jwt_keys"]), list(manifest["encryption_keys"])
        if not jwt_entries or not enc_entries:
            raise ConfigurationError(f"{directory} holds no keys; generate them first")
        jwt_key = _load_jwt_key(directory, jwt_entries[0])
        decryption = {e["kid"]: _load_decryption_key(directory, e) for e in enc_entries}
    except (KeyError, TypeError) as exc:
        raise ConfigurationError(f"{directory / AGENCY_MANIFEST} has an invalid key entry") from exc
    return AgencyKeyring(agency_id=agency_id, jwt_key=jwt_key, decryption_keys=decryption)


def load_broker_public_keys(path: Path) -> dict[str, ed25519.Ed25519PublicKey]:
    """Return kid -> broker Ed25519 public key from a signing history, PEM file or key directory."""
    if path.is_dir():
        path = path / BROKER_HISTORY
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read broker public keys from {path}: {exc}") from exc
    keys = _from_history(path, data) if path.suffix == ".json" else _from_pem(path, data)
    if not keys:
        raise ConfigurationError(f"{path} holds no broker public key")
    return {key_id(k): k for k in keys}


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / AGENCY_MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path} is missing or not JSON") from exc
    if not isinstance(manifest, dict) or not {"agency_id", "jwt_keys", "encryption_keys"} <= manifest.keys():
        raise ConfigurationError(f"{path} is not an agency key manifest")
    return manifest


def _load_pem(path: Path) -> Any:
    try:
        return serialization.load_pem_private_key(read_private_file(path), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{path} is not an unencrypted PKCS#8 PEM private key") from exc


def _load_jwt_key(directory: Path, entry: dict[str, str]) -> JwtSigningKey:
    kid, alg = entry["kid"], entry["alg"]
    private_key = _load_pem(directory / f"jwt-{kid}.pem")
    if alg == "EdDSA" and isinstance(private_key, ed25519.Ed25519PrivateKey):
        _check_kid(private_key.public_key(), kid)
        return JwtSigningKey(kid=kid, alg="EdDSA", private_key=private_key)
    if (alg == "ES256" and isinstance(private_key, ec.EllipticCurvePrivateKey)
            and isinstance(private_key.curve, ec.SECP256R1)):
        _check_kid(private_key.public_key(), kid)
        return JwtSigningKey(kid=kid, alg="ES256", private_key=private_key)
    raise ConfigurationError(f"jwt-{kid}.pem does not hold an {alg} key")


def _load_decryption_key(directory: Path, entry: dict[str, str]) -> x25519.X25519PrivateKey:
    kid = entry["kid"]
    private_key = _load_pem(directory / f"enc-{kid}.pem")
    if not isinstance(private_key, x25519.X25519PrivateKey):
        raise ConfigurationError(f"enc-{kid}.pem does not hold an X25519 key")
    _check_kid(private_key.public_key(), kid)
    return private_key


def _check_kid(public_key: PublicKey, kid: str) -> None:
    # A swapped file would otherwise sign or decrypt under another key's name.
    if key_id(public_key) != kid:
        raise ConfigurationError(f"key file for kid {kid} holds a different key")


def _from_history(path: Path, data: bytes) -> list[ed25519.Ed25519PublicKey]:
    try:
        entries = json.loads(data)
        keys = [ed25519.Ed25519PublicKey.from_public_bytes(_unb64(e["public_key"])) for e in entries]
        listed = [e["kid"] for e in entries]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ConfigurationError(f"{path} is not a broker signing key history") from exc
    if listed != [key_id(k) for k in keys]:
        raise ConfigurationError(f"{path} lists a kid that is not its key's id")
    return keys


def _from_pem(path: Path, data: bytes) -> list[ed25519.Ed25519PublicKey]:
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


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
