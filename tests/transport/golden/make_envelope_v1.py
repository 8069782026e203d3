"""Write envelope_v1.json: a sealed envelope made once with fixed test-only keys.

Run only when the envelope format changes on purpose (then bump ENVELOPE_FORMAT):
    .venv/bin/python tests/transport/golden/make_envelope_v1.py
HPKE sealing is randomised, so running this again gives a different (equally valid) envelope.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from schemas.envelope import EnvelopeHeader
from transport.sealing import hpke_info, seal

# Test-only keys: never a real key. Fictional agencies and a fictional child.
BROKER_SEED = bytes.fromhex("a0" * 16 + "5e" * 16)
RECIPIENT_SEED = bytes.fromhex("3c" * 16 + "d1" * 16)
OTHER_RECIPIENT_SEED = bytes.fromhex("77" * 32)
HEADER: dict[str, Any] = {
    "delivery_id": "dlv-0001",
    "notification_id": "ntf-0001",
    "sender_agency": "brackenford-primary",
    "recipient_agency": "brackenford-csc",
    "message_type": "safeguarding_concern",
    "schema_version": "1.0",
    "recipient_key_id": "enc-test-1",
}
PAYLOAD = {
    "child": {"given_name": "Tamsin", "family_name": "Oakridge-Vell"},
    "concern": "Fictional test concern: unexplained absence; é and ✓ check UTF-8.",
    "risk_flags": ["neglect"],
}
SEALED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SIGNING_KEY_ID = "brk-test-1"


def main() -> None:
    header = EnvelopeHeader(**HEADER)
    envelope = seal(
        PAYLOAD,
        header=header,
        recipient_public_key=X25519PrivateKey.from_private_bytes(RECIPIENT_SEED).public_key(),
        signing_key=Ed25519PrivateKey.from_private_bytes(BROKER_SEED),
        signing_key_id=SIGNING_KEY_ID,
        sealed_at=SEALED_AT,
    )
    golden = {
        "comment": "Test-only keys and fictional data. Regenerate only on a deliberate format change.",
        "broker_signing_seed_hex": BROKER_SEED.hex(),
        "recipient_x25519_private_hex": RECIPIENT_SEED.hex(),
        "signing_key_id": SIGNING_KEY_ID,
        "header": HEADER,
        "payload": PAYLOAD,
        "info_hex": hpke_info(header).hex(),
        "signing_bytes_hex": envelope.signing_bytes().hex(),
        "digest": envelope.digest(),
        "envelope": envelope.to_bytes().decode("utf-8"),
    }
    out = Path(__file__).with_name("envelope_v1.json")
    out.write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
