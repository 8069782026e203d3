"""The recipient keys an envelope can be sealed to: X25519, or the post-quantum hybrid ML-KEM-768 + X25519.

HPKE (RFC 9180) encapsulates the per-message key to the recipient's KEM public key. Two KEMs:

    suite (schemas.envelope)                       KEM (hpke.KEM)    public key  encapsulated key
    DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-...  X25519 (0x0020)   32 bytes    32 bytes
    MLKEM768-X25519/HKDF-SHA256/AES-256-GCM        MLKEM768_X25519   1,216 bytes 1,120 bytes

MLKEM768-X25519 is X-Wing (IANA HPKE KEM 0x647A; draft-irtf-cfrg-concrete-hybrid-kems §4.2): an
envelope stays confidential while either ML-KEM-768 or X25519 holds, so a ciphertext recorded today
is safe from a future quantum computer that breaks X25519, and from a flaw found in the young ML-KEM.
`cryptography` builds its key from one ML-KEM-768 key and one X25519 key, and exposes neither part
of the combined key, so we keep the two parts ourselves (`HybridPrivateKey`, `HybridPublicKey`):

    raw public key   = ML-KEM-768 encapsulation key (1,184 bytes) || X25519 public key (32 bytes)
    key id           = first 16 hex digits of SHA-256(SPKI DER of ML-KEM-768 key || SPKI DER of X25519 key)
    private key file = PKCS#8 PEM of the ML-KEM-768 key (its 64-byte seed), then PKCS#8 PEM of the X25519 key

The raw public key is X-Wing's own encoding. Each SPKI names its algorithm, so a hybrid key id never
equals the id of a single key (`transport.keyfiles.key_id`).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from typing import Final

from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from schemas.envelope import HYBRID_SUITE_NAME, SUITE_NAME, SuiteName

MLKEM768_PUBLIC_BYTES: Final = 1184
X25519_BYTES: Final = 32
HYBRID_PUBLIC_BYTES: Final = MLKEM768_PUBLIC_BYTES + X25519_BYTES

# The suites an envelope may name, each with its cryptography recipe: KEM, KDF, AEAD.
SUITES: Final[dict[str, hpke.Suite]] = {
    SUITE_NAME: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    HYBRID_SUITE_NAME: hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
}
# Bytes of the encapsulated key at the front of `Suite.encrypt`'s output (RFC 9180 Nenc).
ENC_LENGTHS: Final[dict[str, int]] = {
    SUITE_NAME: hpke.KEM.X25519.enc_length(),
    HYBRID_SUITE_NAME: hpke.KEM.MLKEM768_X25519.enc_length(),
}

_PEM_BLOCK = re.compile(rb"-----BEGIN PRIVATE KEY-----\n.+?-----END PRIVATE KEY-----\n?", re.DOTALL)
_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class KemKeyError(ValueError):
    """Bytes that are not a key of the kind they claim to be."""


@dataclass(frozen=True)
class HybridPublicKey:
    """An agency's MLKEM768-X25519 public key, kept as its two parts."""

    mlkem: mlkem.MLKEM768PublicKey
    x25519: x25519.X25519PublicKey

    def raw(self) -> bytes:
        """Return X-Wing's encoding: the ML-KEM-768 key, then the X25519 key (1,216 bytes)."""
        return self.mlkem.public_bytes_raw() + self.x25519.public_bytes(*_RAW)

    @classmethod
    def from_raw(cls, data: bytes) -> HybridPublicKey:
        if len(data) != HYBRID_PUBLIC_BYTES:
            raise KemKeyError(f"a hybrid public key is {HYBRID_PUBLIC_BYTES} bytes, not {len(data)}")
        try:
            return cls(
                mlkem.MLKEM768PublicKey.from_public_bytes(data[:MLKEM768_PUBLIC_BYTES]),
                x25519.X25519PublicKey.from_public_bytes(data[MLKEM768_PUBLIC_BYTES:]),
            )
        except ValueError as exc:
            raise KemKeyError("not an ML-KEM-768 + X25519 public key") from exc

    def key_id(self) -> str:
        spki = self.mlkem.public_bytes(*_SPKI) + self.x25519.public_bytes(*_SPKI)
        return hashlib.sha256(spki).hexdigest()[:16]

    def hpke(self) -> hpke.MLKEM768X25519PublicKey:
        """Return the combined key `hpke.Suite.encrypt` takes."""
        return hpke.MLKEM768X25519PublicKey(self.mlkem, self.x25519)


@dataclass(frozen=True)
class HybridPrivateKey:
    """An agency's MLKEM768-X25519 private key, kept as its two parts so it can be stored and shown."""

    mlkem: mlkem.MLKEM768PrivateKey = field(repr=False)
    x25519: x25519.X25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> HybridPrivateKey:
        return cls(mlkem.MLKEM768PrivateKey.generate(), x25519.X25519PrivateKey.generate())

    def public_key(self) -> HybridPublicKey:
        return HybridPublicKey(self.mlkem.public_key(), self.x25519.public_key())

    @functools.cached_property
    def hpke(self) -> hpke.MLKEM768X25519PrivateKey:
        """The combined key `hpke.Suite.decrypt` takes (built once per loaded key)."""
        return hpke.MLKEM768X25519PrivateKey(self.mlkem, self.x25519)

    def to_pem(self) -> bytes:
        """Return the two PKCS#8 PEM blocks, ML-KEM-768 first (see the module docstring)."""
        encoding = (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        return self.mlkem.private_bytes(*encoding) + self.x25519.private_bytes(*encoding)

    @classmethod
    def from_pem(cls, data: bytes) -> HybridPrivateKey:
        blocks = _PEM_BLOCK.findall(data)
        if len(blocks) != 2:
            raise KemKeyError("a hybrid key file holds exactly two PKCS#8 PEM blocks")
        try:
            first, second = (serialization.load_pem_private_key(block, password=None) for block in blocks)
        except (ValueError, TypeError) as exc:
            raise KemKeyError("a hybrid key file holds an unreadable PEM block") from exc
        if not isinstance(first, mlkem.MLKEM768PrivateKey) or not isinstance(second, x25519.X25519PrivateKey):
            raise KemKeyError("a hybrid key file holds an ML-KEM-768 key, then an X25519 key")
        return cls(first, second)


RecipientPublicKey = x25519.X25519PublicKey | HybridPublicKey
RecipientPrivateKey = x25519.X25519PrivateKey | HybridPrivateKey


def suite_for(key: RecipientPublicKey | RecipientPrivateKey) -> SuiteName:
    """Return the name of the one suite a recipient key is used with."""
    if isinstance(key, HybridPublicKey | HybridPrivateKey):
        return HYBRID_SUITE_NAME
    return SUITE_NAME


def raw_public_key(key: RecipientPublicKey) -> bytes:
    """Return the bytes the registry publishes: 32 for X25519, 1,216 for the hybrid."""
    if isinstance(key, HybridPublicKey):
        return key.raw()
    return key.public_bytes(*_RAW)


@functools.lru_cache(maxsize=4096)
def public_key_from_raw(suite: str, data: bytes) -> RecipientPublicKey:
    """Parse a registry's raw public key for `suite`; raise `KemKeyError` if it is not one.

    Cached: the gateway seals to the same few keys all day, and checking an ML-KEM-768 key costs
    about as much as a quarter of the seal itself. The keys are immutable, so sharing them is safe.
    """
    if suite == HYBRID_SUITE_NAME:
        return HybridPublicKey.from_raw(data)
    if suite != SUITE_NAME:
        raise KemKeyError(f"unknown suite {suite!r}")
    if len(data) != X25519_BYTES:
        raise KemKeyError(f"an X25519 public key is {X25519_BYTES} bytes, not {len(data)}")
    return x25519.X25519PublicKey.from_public_bytes(data)
