"""What a witnessing consumer keeps and how it is configured: no Kafka, no gateway needed."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from aiokafka import ConsumerRecord
from pydantic import ValidationError

from broker.admission.tokens import verify_token
from broker.partnership.keys import generate_agency_keys
from broker.partnership.registry import Registry, encryption_public_key, jwt_verification_key, register_agency
from consumers.keys import load_agency_keyring
from consumers.ledger import KeptCheckpoint, Ledger
from consumers.receipt import API_TOKEN_LIFETIME, ReceiptSigner
from consumers.runner import CHECKPOINT_HEADER, _header
from consumers.settings import ConsumerSettings
from schemas.witness import COSIGNATURE_PATTERN, CosignatureSubmission
from tests.consumers.conftest import AUDIENCE, NOW

AGENCY = "csc-fictional"
PASSWORD = "fictional-secret-1"


def test_the_kept_checkpoint_only_moves_forward_and_survives_a_restart(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    assert ledger.kept_checkpoint("log") is None
    assert ledger.keep_checkpoint("log", tree_size=5, note="n5", cosignature="c5")
    ledger.mark_posted("log", 5)
    assert not ledger.keep_checkpoint("log", tree_size=3, note="n3", cosignature="c3")
    assert ledger.kept_checkpoint("log") == KeptCheckpoint(5, "n5", "c5", posted=True)
    assert ledger.keep_checkpoint("log", tree_size=9, note="n9", cosignature="c9")
    ledger.mark_posted("log", 5)  # a late answer about the old tree changes nothing
    ledger.close()
    reopened = Ledger(tmp_path / "ledger.db")
    assert reopened.kept_checkpoint("log") == KeptCheckpoint(9, "n9", "c9", posted=False)
    assert reopened.kept_checkpoint("another-log") is None
    reopened.close()


def test_the_gateway_api_token_passes_the_gateways_own_checks(tmp_path: Path) -> None:
    keys = generate_agency_keys(tmp_path, agency_id=AGENCY, now=NOW)
    registry = register_agency(
        Registry(partnership_id="fictional-partnership"),
        agency_id=AGENCY,
        name="Fictional Children's Services",
        agency_type="csc_front_door",
        jwt_key=jwt_verification_key(keys.current_jwt_key.private_key.public_key(), created_at=NOW),
        encryption_key=encryption_public_key(keys.current_encryption_key.private_key.public_key(), created_at=NOW),
        now=NOW,
    )
    keyring = load_agency_keyring(tmp_path, agency_id=AGENCY)
    signer = ReceiptSigner(agency_id=AGENCY, audience=AUDIENCE, key=keyring.jwt_key)
    first, second = signer.api_token(), signer.api_token()
    caller = verify_token(first, registry=registry, audience=AUDIENCE)
    assert (caller.agency_id, caller.role, caller.subject) == (AGENCY, "agency_system", None)
    claims = jwt.decode(first, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == API_TOKEN_LIFETIME.total_seconds()
    assert "kind" not in claims and claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]


@pytest.mark.parametrize(
    ("environment", "url", "ca_file", "problem"),
    [
        ("production", "http://gateway.example", None, "https outside development"),
        ("production", "gateway.example", None, "http(s)://"),
        ("production", "http://gateway.example", Path("ca.pem"), "https"),
        ("development", None, Path("ca.pem"), "needs an https gateway URL"),
    ],
)
def test_gateway_settings_that_would_not_protect_the_answers_are_refused(
    environment: str, url: str | None, ca_file: Path | None, problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        ConsumerSettings(
            agency_id=AGENCY, kafka_password=PASSWORD, environment=environment, gateway_url=url, gateway_ca_file=ca_file
        )


def test_gateway_settings_default_to_not_witnessing_and_accept_https() -> None:
    assert (
        ConsumerSettings(agency_id=AGENCY, kafka_password=PASSWORD, kafka_security_protocol="SASL_SSL").gateway_url
        is None
    )
    settings = ConsumerSettings(
        agency_id=AGENCY,
        kafka_password=PASSWORD,
        gateway_url="https://gw.example:8443",
        kafka_security_protocol="SASL_SSL",
    )
    assert settings.log_origin == "sgb.decision-log"
    with pytest.raises(ValidationError):
        ConsumerSettings(agency_id=AGENCY, kafka_password=PASSWORD, log_origin="two words")


def _record(headers: list[tuple[str, bytes]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("t", 0, 0, 0, 0, None, b"v", None, 1, 1, headers)


def test_the_checkpoint_header_is_read_as_text_and_bad_bytes_stay_visible() -> None:
    assert _header(_record([("ce_id", b"x"), (CHECKPOINT_HEADER, b"note\n")]), CHECKPOINT_HEADER) == "note\n"
    assert _header(_record([(CHECKPOINT_HEADER, b"\xff")]), CHECKPOINT_HEADER) == "\ufffd"
    assert _header(_record([]), CHECKPOINT_HEADER) is None


def test_only_a_cosignature_line_is_accepted_as_one() -> None:
    line = "\u2014 csc-fictional " + "A" * 102 + "==\n"
    assert CosignatureSubmission(tree_size=1, cosignature=line).cosignature == line
    for bad in (
        line.rstrip("\n"),
        line.replace("\u2014", "-"),
        line.replace("csc-fictional", "two words"),
        "\u2014 csc-fictional " + "A" * 104 + "\n",
    ):
        with pytest.raises(ValidationError):
            CosignatureSubmission(tree_size=1, cosignature=bad)
    with pytest.raises(ValidationError):
        CosignatureSubmission(tree_size=0, cosignature=line)
    assert COSIGNATURE_PATTERN.endswith("\\n$")
