"""Write envelope_hybrid_v1.json: an envelope sealed once to a fixed test-only MLKEM768-X25519 key.

Run only when the envelope format changes on purpose (then bump ENVELOPE_FORMAT):
    .venv/bin/python tests/transport/golden/make_envelope_hybrid_v1.py
HPKE sealing is randomised, so running this again gives a different (equally valid) envelope; what
must never change is that the committed one opens, and its info, signed bytes, key id and digest.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from schemas.envelope import HYBRID_SUITE_NAME, EnvelopeHeader, b64url_encode
from transport.kem import HybridPrivateKey
from transport.sealing import hpke_info, seal

# Test-only keys: never a real key. The same broker key and fictional data as envelope_v1.json.
BROKER_SEED = bytes.fromhex("a0" * 16 + "5e" * 16)
MLKEM_SEED = bytes.fromhex("4b" * 32 + "e7" * 32)  # ML-KEM-768's 64-byte seed (d || z)
X25519_SEED = bytes.fromhex("3c" * 16 + "d1" * 16)
RECIPIENT = HybridPrivateKey(
    MLKEM768PrivateKey.from_seed_bytes(MLKEM_SEED), X25519PrivateKey.from_private_bytes(X25519_SEED)
)
HEADER: dict[str, Any] = {
    "delivery_id": "dlv-0002",
    "notification_id": "ntf-0001",
    "sender_agency": "brackenford-primary",
    "recipient_agency": "brackenford-police",
    "message_type": "safeguarding_concern",
    "schema_version": "1.0",
    "recipient_key_id": RECIPIENT.public_key().key_id(),
}
PAYLOAD = {
    "child": {"given_name": "Tamsin", "family_name": "Oakridge-Vell"},
    "concern": "Fictional test concern: unexplained absence; é and ✓ check UTF-8.",
    "risk_flags": ["neglect"],
}
SEALED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
SIGNING_KEY_ID = "brk-test-1"


def main() -> None:
    header = EnvelopeHeader(**HEADER)
    envelope = seal(
        PAYLOAD,
        header=header,
        recipient_public_key=RECIPIENT.public_key(),
        signing_key=Ed25519PrivateKey.from_private_bytes(BROKER_SEED),
        signing_key_id=SIGNING_KEY_ID,
        sealed_at=SEALED_AT,
    )
    golden = {
        "comment": "Test-only keys and fictional data. Regenerate only on a deliberate format change.",
        "suite": HYBRID_SUITE_NAME,
        "broker_signing_seed_hex": BROKER_SEED.hex(),
        "recipient_mlkem768_seed_hex": MLKEM_SEED.hex(),
        "recipient_x25519_private_hex": X25519_SEED.hex(),
        "recipient_public_key": b64url_encode(RECIPIENT.public_key().raw()),
        "recipient_key_id": RECIPIENT.public_key().key_id(),
        "signing_key_id": SIGNING_KEY_ID,
        "header": HEADER,
        "payload": PAYLOAD,
        "info_hex": hpke_info(header, HYBRID_SUITE_NAME).hex(),
        "signing_bytes_hex": envelope.signing_bytes().hex(),
        "digest": envelope.digest(),
        "envelope": envelope.to_bytes().decode("utf-8"),
    }
    out = Path(__file__).with_name("envelope_hybrid_v1.json")
    out.write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
