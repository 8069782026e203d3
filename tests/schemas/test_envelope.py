"""The envelope's wire format alone (no keys): canonical bytes, signed bytes, digest, closed models.

The golden envelope is the one `tests/transport/test_sealing.py` opens; here only its format is read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from schemas.envelope import (
    EnvelopeHeader,
    SealedEnvelope,
    b64url_decode,
    b64url_encode,
    canonical_json,
    format_timestamp,
)

GOLDEN_FILE = Path(__file__).resolve().parents[1] / "transport" / "golden" / "envelope_v1.json"
GOLDEN = json.loads(GOLDEN_FILE.read_text("utf-8"))
HEADER = EnvelopeHeader(**GOLDEN["header"])


def test_golden_wire_form_is_canonical_and_its_digest_pinned() -> None:
    envelope = SealedEnvelope.from_bytes(GOLDEN["envelope"].encode("utf-8"))
    assert envelope.to_bytes() == GOLDEN["envelope"].encode("utf-8")
    assert envelope.signing_bytes().hex() == GOLDEN["signing_bytes_hex"]
    assert envelope.digest() == GOLDEN["digest"]
    assert envelope.header == HEADER


def test_golden_signing_bytes_are_prefix_plus_canonical_json_without_signature() -> None:
    envelope = SealedEnvelope.from_bytes(GOLDEN["envelope"].encode("utf-8"))
    wire = json.loads(GOLDEN["envelope"])
    del wire["signature"]
    assert envelope.signing_bytes() == b"sgb/envelope/v1 signature\x00" + canonical_json(wire)
    assert sorted(json.loads(GOLDEN["envelope"])) == [
        "ciphertext",
        "enc",
        "format",
        "header",
        "sealed_at",
        "signature",
        "signing_key_id",
        "suite",
    ]


def test_canonical_json_is_sorted_compact_utf8_and_refuses_nan() -> None:
    assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[]", b'{"format":"sgb-envelope/2"}', b"{" + b" " * (1024 * 1024) + b"}"],
    ids=["empty", "not-json", "array", "other-format", "too-big"],
)
def test_what_is_not_an_envelope_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        SealedEnvelope.from_bytes(data)


def test_base64url_has_one_spelling_per_value() -> None:
    assert b64url_encode(b"\xff\xfe") == "__4"
    assert b64url_decode("__4") == b"\xff\xfe"
    for text in ("__5", "__4=", "+/4", "é"):
        with pytest.raises(ValueError):
            b64url_decode(text)


def test_timestamps_are_utc_seconds_and_must_be_aware() -> None:
    moment = datetime(2026, 3, 2, 10, 30, 15, 999, tzinfo=timezone(timedelta(hours=1)))
    assert format_timestamp(moment) == "2026-03-02T09:30:15Z"
    assert format_timestamp(moment.astimezone(UTC)) == "2026-03-02T09:30:15Z"
    with pytest.raises(ValueError):
        format_timestamp(datetime(2026, 3, 2, 9, 30))


def test_header_and_envelope_are_frozen_and_closed() -> None:
    with pytest.raises(ValueError):
        EnvelopeHeader.model_validate(GOLDEN["header"] | {"extra": "x"})
    with pytest.raises(ValueError):
        EnvelopeHeader(**(GOLDEN["header"] | {"recipient_agency": "Not An Id"}))
    with pytest.raises(ValueError):
        HEADER.delivery_id = "x"  # type: ignore[misc]
