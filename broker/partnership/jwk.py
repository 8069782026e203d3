"""Public JWKs of agencies' token keys: Ed25519 or P-256 only, parsed once per process.

RFC 7517/8037 public JWKs are how the registry holds the keys that verify an agency's tokens
(`broker.partnership.registry.JwtVerificationKey`); a private part is refused.
"""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from broker.errors import RegistryError
from broker.partnership.keys import JwtAlg

JwtPublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


def alg_for(key: JwtPublicKey) -> JwtAlg:
    """Return the only JWS algorithm a key may be used with."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise RegistryError(f"curve {key.curve.name} is not allowed; use Ed25519 or P-256")


def public_jwk(key: JwtPublicKey) -> dict[str, str]:
    """Return the RFC 7517/8037 public JWK of an Ed25519 or P-256 key."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
    alg_for(key)
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64(numbers.x.to_bytes(32, "big")),
        "y": b64(numbers.y.to_bytes(32, "big")),
    }


# Every request verifies a token and every share seals to a key: each key is parsed once per process
# (the key objects are immutable), not once per use. A key that fails to parse is not cached.
@functools.lru_cache(maxsize=1024)
def cached_public_key(jwk: tuple[tuple[str, str], ...]) -> JwtPublicKey:
    return public_key_from_jwk(dict(jwk))


def public_key_from_jwk(jwk: dict[str, str]) -> JwtPublicKey:
    """Parse a public JWK; only OKP/Ed25519 and EC/P-256 are accepted, and never a private part."""
    if "d" in jwk:
        raise ValueError("a registry JWK must not contain the private key")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if (kty, crv) == ("OKP", "Ed25519"):
            return ed25519.Ed25519PublicKey.from_public_bytes(unb64(jwk["x"]))
        if (kty, crv) == ("EC", "P-256"):
            x, y = (int.from_bytes(unb64(jwk[c]), "big") for c in ("x", "y"))
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except KeyError as exc:
        raise ValueError(f"JWK lacks {exc}") from exc
    raise ValueError(f"JWK kty={kty} crv={crv} is not allowed; use OKP/Ed25519 or EC/P-256")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    """Strict base64url, unpadded: ValueError for anything else."""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
